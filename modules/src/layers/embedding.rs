//! `Embedding`: a learned vector per class id, looked up by index — the dense layer applied
//! to one-hot inputs without ever building them.

use crate::init::Init;
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Rng, Tensor, TensorError};

/// A table of `num_embeddings` vectors of width `embedding_dim`: class ids of any shape
/// `[…]` (integers stored as `f32`) become `[…, embedding_dim]`. Only the rows looked up
/// receive gradient.
///
/// Default initialisation (PyTorch's): weight `N(0, 1)`.
///
/// ```
/// use strata_modules::{Embedding, Module, Var};
/// use strata_tensor::{Rng, Tensor};
/// let embedding = Embedding::new(10, 4, &mut Rng::new(0));
/// let ids = Tensor::from_vec(vec![1.0, 7.0, 7.0, 0.0, 2.0, 9.0], &[2, 3]);
/// let vectors = embedding.forward(&Var::constant(ids));
/// assert_eq!(vectors.shape(), &[2, 3, 4]);
/// assert_eq!(
///     vectors.value().narrow(0, 0, 1).narrow(1, 1, 1).to_vec(), // ids[0][1] = 7
///     embedding.weight.value().narrow(0, 7, 1).to_vec()
/// );
/// ```
#[derive(Params)]
pub struct Embedding {
    /// `[num_embeddings, embedding_dim]`.
    pub weight: Var,
    /// The id whose vector receives no gradient (PyTorch's `padding_idx`), if any.
    #[module(skip)]
    pub padding_idx: Option<usize>,
}

impl Embedding {
    /// A table of `num_embeddings` vectors of width `embedding_dim`, drawn from `N(0, 1)`.
    pub fn new(num_embeddings: usize, embedding_dim: usize, rng: &mut Rng) -> Self {
        Self::with_init(
            num_embeddings,
            embedding_dim,
            Init::Normal {
                mean: 0.0,
                std: 1.0,
            },
            rng,
        )
    }

    /// A table filled by `init`.
    pub fn with_init(
        num_embeddings: usize,
        embedding_dim: usize,
        init: Init,
        rng: &mut Rng,
    ) -> Self {
        Self {
            weight: Var::leaf(init.tensor(&[num_embeddings, embedding_dim], rng)),
            padding_idx: None,
        }
    }

    /// The same table with id `padding_idx` as padding, as PyTorch's
    /// `Embedding(padding_idx=…)`: its vector is set to zeros and never receives gradient,
    /// so padded positions stay zero vectors through training.
    ///
    /// Panics (at the caller's line) if `padding_idx` is not a row of the table.
    ///
    /// ```
    /// use strata_modules::{Embedding, Module, Var};
    /// use strata_tensor::{Rng, Tensor};
    /// let embedding = Embedding::new(5, 3, &mut Rng::new(0)).with_padding_idx(0);
    /// let ids = Var::constant(Tensor::from_vec(vec![0.0, 2.0, 0.0], &[3]));
    /// let grads = embedding.forward(&ids).sum().backward().unwrap();
    /// let grad = grads.get(&embedding.weight).unwrap();
    /// assert_eq!(grad.narrow(0, 0, 1).to_vec(), vec![0.0; 3]); // the padding row
    /// assert_eq!(grad.narrow(0, 2, 1).to_vec(), vec![1.0; 3]);
    /// ```
    #[track_caller]
    pub fn with_padding_idx(mut self, padding_idx: usize) -> Self {
        let (rows, width) = (self.num_embeddings(), self.embedding_dim());
        assert!(
            padding_idx < rows,
            "Embedding::with_padding_idx: id {padding_idx} is not a row of a table of {rows}"
        );
        self.weight.update(|table| {
            let row = &mut table.data_mut()[padding_idx * width..(padding_idx + 1) * width];
            row.fill(0.0);
        });
        self.padding_idx = Some(padding_idx);
        self
    }

    /// Number of vectors in the table.
    pub fn num_embeddings(&self) -> usize {
        self.weight.shape()[0]
    }

    /// Width of each vector.
    pub fn embedding_dim(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The vectors of `ids` (any shape, whole numbers in `0..num_embeddings`), shaped
    /// `[…ids, embedding_dim]`; an error names the first id that is not a valid row.
    pub fn try_lookup(&self, ids: &Tensor) -> Result<Var> {
        let rows = self.num_embeddings();
        let values = ids.values();
        let mut indices = Vec::with_capacity(values.len());
        for &id in values.iter() {
            if !(id >= 0.0 && id.fract() == 0.0 && (id as usize) < rows) {
                return Err(TensorError::new(
                    "Embedding",
                    ErrorKind::IndexOutOfRange,
                    format!("ids must be whole numbers in 0..{rows}, found {id}"),
                ));
            }
            indices.push(id as usize);
        }
        let mut shape: Vec<isize> = ids.shape().iter().map(|&d| d as isize).collect();
        shape.push(self.embedding_dim() as isize);
        let vectors = self.weight.try_index_select(0, &indices)?;
        let vectors = match self.padding_idx {
            // Padded positions take the padding vector's value but pass no gradient back.
            Some(pad) if indices.contains(&pad) => {
                let padded: Vec<f32> = indices.iter().map(|&i| f32::from(i == pad)).collect();
                let padded = Tensor::from_vec(padded, &[indices.len(), 1]);
                Var::try_select(&padded, &vectors.detach(), &vectors)?
            }
            _ => vectors,
        };
        vectors.try_reshape(&shape)
    }
}

impl Module for Embedding {
    /// Looks up the ids held by `x` (its value; no gradient flows into ids). Panics on an
    /// invalid id; use [`Embedding::try_lookup`] to handle it.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.try_lookup(x.value())
    }
}
