//! Every error path: the `try_` form returns an error whose message names the op and the
//! shapes, and the plain form panics with that same message.

use strata_tensor::{Conv2dSpec, ErrorKind, Pool2dSpec, Tensor};

fn z(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape)
}

/// `name: try_expr, panic_expr => "message";` makes a module with two tests: the `try_`
/// form's error message is exactly `message`, and the panicking form panics with it.
macro_rules! error_cases {
    ($($name:ident: $try_expr:expr, $panic_expr:expr => $msg:literal;)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[test]
                fn returns_the_error() {
                    let err = $try_expr.unwrap_err();
                    assert_eq!(err.to_string(), $msg);
                }

                #[test]
                #[should_panic(expected = $msg)]
                fn panics_with_the_message() {
                    let _ = $panic_expr;
                }
            }
        )*
    };
}

error_cases! {
    from_vec_length:
        Tensor::try_from_vec(vec![0.0; 5], &[2, 3]), Tensor::from_vec(vec![0.0; 5], &[2, 3])
        => "from_vec: shape [2, 3] needs 6 elements, found 5";
    from_slice_length:
        Tensor::try_from_vec(vec![], &[1]), Tensor::from_slice(&[], &[1])
        => "from_vec: shape [1] needs 1 elements, found 0";
    arange_zero_step:
        Tensor::try_arange(0.0, 1.0, 0.0), Tensor::arange(0.0, 1.0, 0.0)
        => "arange: cannot step from 0 to 1 by 0";
    arange_wrong_direction:
        Tensor::try_arange(0.0, 1.0, -1.0), Tensor::arange(0.0, 1.0, -1.0)
        => "arange: cannot step from 0 to 1 by -1";
    arange_nan:
        Tensor::try_arange(0.0, f32::NAN, 1.0), Tensor::arange(0.0, f32::NAN, 1.0)
        => "arange: cannot step from 0 to NaN by 1";
    item_of_many:
        z(&[2]).try_item(), z(&[2]).item()
        => "item: needs exactly one element, shape is [2]";
    get_out_of_range:
        z(&[2, 2]).try_get(&[2, 0]), z(&[2, 2]).get(&[2, 0])
        => "get: index [2, 0] is outside shape [2, 2]";
    get_wrong_rank:
        z(&[2, 2]).try_get(&[0]), z(&[2, 2]).get(&[0])
        => "get: index [0] is outside shape [2, 2]";

    add_shapes: z(&[2, 3]).try_add(&z(&[4])), &z(&[2, 3]) + &z(&[4])
        => "add: shapes [2, 3] and [4] cannot be broadcast together";
    sub_shapes: z(&[2, 3]).try_sub(&z(&[2])), z(&[2, 3]) - z(&[2])
        => "sub: shapes [2, 3] and [2] cannot be broadcast together";
    mul_shapes: z(&[3, 1]).try_mul(&z(&[2, 1])), z(&[3, 1]) * &z(&[2, 1])
        => "mul: shapes [3, 1] and [2, 1] cannot be broadcast together";
    div_shapes: z(&[2]).try_div(&z(&[3])), &z(&[2]) / &z(&[3])
        => "div: shapes [2] and [3] cannot be broadcast together";
    maximum_shapes: z(&[2]).try_maximum(&z(&[3])), z(&[2]).maximum(&z(&[3]))
        => "maximum: shapes [2] and [3] cannot be broadcast together";
    minimum_shapes: z(&[2]).try_minimum(&z(&[3])), z(&[2]).minimum(&z(&[3]))
        => "minimum: shapes [2] and [3] cannot be broadcast together";
    pow_shapes: z(&[2]).try_pow(&z(&[3])), z(&[2]).pow(&z(&[3]))
        => "pow: shapes [2] and [3] cannot be broadcast together";
    eq_shapes: z(&[2]).try_eq(&z(&[3])), z(&[2]).eq(&z(&[3]))
        => "eq: shapes [2] and [3] cannot be broadcast together";
    ne_shapes: z(&[2]).try_ne(&z(&[3])), z(&[2]).ne(&z(&[3]))
        => "ne: shapes [2] and [3] cannot be broadcast together";
    lt_shapes: z(&[2]).try_lt(&z(&[3])), z(&[2]).lt(&z(&[3]))
        => "lt: shapes [2] and [3] cannot be broadcast together";
    le_shapes: z(&[2]).try_le(&z(&[3])), z(&[2]).le(&z(&[3]))
        => "le: shapes [2] and [3] cannot be broadcast together";
    gt_shapes: z(&[2]).try_gt(&z(&[3])), z(&[2]).gt(&z(&[3]))
        => "gt: shapes [2] and [3] cannot be broadcast together";
    ge_shapes: z(&[2]).try_ge(&z(&[3])), z(&[2]).ge(&z(&[3]))
        => "ge: shapes [2] and [3] cannot be broadcast together";
    zip_map_shapes: z(&[2]).try_zip_map(&z(&[3]), |a, b| a + b), z(&[2]).zip_map(&z(&[3]), |a, b| a + b)
        => "zip_map: shapes [2] and [3] cannot be broadcast together";
    select_shapes:
        Tensor::try_select(&z(&[2, 3]), &z(&[3]), &z(&[2])), Tensor::select(&z(&[2, 3]), &z(&[3]), &z(&[2]))
        => "select: shapes [2, 3] and [2] cannot be broadcast together";

    sum_axis: z(&[2, 3]).try_sum_axes(&[2], false), z(&[2, 3]).sum_axes(&[2], false)
        => "sum: axis 2 is out of range for a tensor with 2 dimensions";
    sum_negative_axis: z(&[2, 3]).try_sum_axes(&[-3], false), z(&[2, 3]).sum_axes(&[-3], false)
        => "sum: axis -3 is out of range for a tensor with 2 dimensions";
    sum_repeated_axis: z(&[2, 3]).try_sum_axes(&[1, -1], true), z(&[2, 3]).sum_axes(&[1, -1], true)
        => "sum: repeated axis in [1, 1]";
    mean_axis: z(&[2, 3]).try_mean_axes(&[5], false), z(&[2, 3]).mean_axes(&[5], false)
        => "mean: axis 5 is out of range for a tensor with 2 dimensions";
    var_axis: z(&[2, 3]).try_var_axes(&[0, 0], false, true), z(&[2, 3]).var_axes(&[0, 0], false, true)
        => "var: repeated axis in [0, 0]";
    max_axis: z(&[2]).try_max_axes(&[1], false), z(&[2]).max_axes(&[1], false)
        => "max: axis 1 is out of range for a tensor with 1 dimensions";
    max_empty: z(&[0, 3]).try_max_axes(&[0], false), z(&[0, 3]).max()
        => "max: axis 0 of shape [0, 3] is empty";
    min_empty: z(&[2, 0]).try_min_axes(&[0, 1], true), z(&[2, 0]).min()
        => "min: axis 1 of shape [2, 0] is empty";
    argmax_axis: z(&[2, 3]).try_argmax(2, false), z(&[2, 3]).argmax(2, false)
        => "argmax: axis 2 is out of range for a tensor with 2 dimensions";
    argmax_empty: z(&[2, 0]).try_argmax(1, false), z(&[2, 0]).argmax(1, false)
        => "argmax: axis 1 of shape [2, 0] is empty";
    argmin_empty: z(&[0]).try_argmin(0, true), z(&[0]).argmin(0, true)
        => "argmin: axis 0 of shape [0] is empty";

    reshape_two_inferred: z(&[2, 3]).try_reshape(&[-1, -1]), z(&[2, 3]).reshape(&[-1, -1])
        => "reshape: only one dimension may be -1 (and none lower), got [-1, -1]";
    reshape_below_minus_one: z(&[2, 3]).try_reshape(&[-2, 3]), z(&[2, 3]).reshape(&[-2, 3])
        => "reshape: only one dimension may be -1 (and none lower), got [-2, 3]";
    reshape_cannot_infer: z(&[2, 3]).try_reshape(&[4, -1]), z(&[2, 3]).reshape(&[4, -1])
        => "reshape: cannot infer a dimension: [2, 3] (6 elements) into [4, -1]";
    reshape_count: z(&[2, 3]).try_reshape(&[4, 2]), z(&[2, 3]).reshape(&[4, 2])
        => "reshape: [2, 3] (6 elements) cannot be viewed as [4, 2] (8 elements)";
    permute_length: z(&[2, 3]).try_permute(&[0]), z(&[2, 3]).permute(&[0])
        => "permute: [0] is not a permutation of the axes of shape [2, 3]";
    permute_repeated: z(&[2, 3]).try_permute(&[1, -1]), z(&[2, 3]).permute(&[1, -1])
        => "permute: [1, 1] is not a permutation of the axes of shape [2, 3]";
    permute_axis: z(&[2, 3]).try_permute(&[0, 2]), z(&[2, 3]).permute(&[0, 2])
        => "permute: axis 2 is out of range for a tensor with 2 dimensions";
    transpose_axis: z(&[2, 3]).try_transpose(0, 2), z(&[2, 3]).transpose(0, 2)
        => "transpose: axis 2 is out of range for a tensor with 2 dimensions";
    t_of_a_vector: z(&[3]).try_t(), z(&[3]).t()
        => "t: expects at least 2 dimensions, found shape [3]";
    squeeze_size: z(&[2, 3]).try_squeeze(1), z(&[2, 3]).squeeze(1)
        => "squeeze: axis 1 of shape [2, 3] has size 3, not 1";
    squeeze_axis: z(&[2, 3]).try_squeeze(-3), z(&[2, 3]).squeeze(-3)
        => "squeeze: axis -3 is out of range for a tensor with 2 dimensions";
    unsqueeze_axis: z(&[2, 3]).try_unsqueeze(3), z(&[2, 3]).unsqueeze(3)
        => "unsqueeze: cannot insert axis 3 into shape [2, 3] (valid: -3..=2)";
    unsqueeze_negative_axis: z(&[2, 3]).try_unsqueeze(-4), z(&[2, 3]).unsqueeze(-4)
        => "unsqueeze: cannot insert axis -4 into shape [2, 3] (valid: -3..=2)";
    broadcast_to_shape: z(&[2, 3]).try_broadcast_to(&[3, 3]), z(&[2, 3]).broadcast_to(&[3, 3])
        => "broadcast_to: cannot broadcast [2, 3] to [3, 3]";
    broadcast_to_fewer_dims: z(&[2, 3]).try_broadcast_to(&[3]), z(&[2, 3]).broadcast_to(&[3])
        => "broadcast_to: cannot broadcast [2, 3] to [3]";
    narrow_range: z(&[2, 3]).try_narrow(1, 2, 2), z(&[2, 3]).narrow(1, 2, 2)
        => "narrow: range 2..4 is outside axis 1 of shape [2, 3]";
    narrow_overflow: z(&[2, 3]).try_narrow(0, usize::MAX, 2), z(&[2, 3]).narrow(0, usize::MAX, 2)
        => "narrow: range 18446744073709551615..18446744073709551615 is outside axis 0 of shape [2, 3]";
    narrow_axis: z(&[2, 3]).try_narrow(2, 0, 1), z(&[2, 3]).narrow(2, 0, 1)
        => "narrow: axis 2 is out of range for a tensor with 2 dimensions";
    flatten_order: z(&[2, 3]).try_flatten(1, 0), z(&[2, 3]).flatten(1, 0)
        => "flatten: start axis 1 is after end axis 0";
    flatten_axis: z(&[2, 3]).try_flatten(0, 2), z(&[2, 3]).flatten(0, 2)
        => "flatten: axis 2 is out of range for a tensor with 2 dimensions";

    concat_nothing: Tensor::try_concat(&[], 0), Tensor::concat(&[], 0)
        => "concat: no tensors to join";
    concat_shapes: Tensor::try_concat(&[&z(&[2, 2]), &z(&[3, 3])], 0), Tensor::concat(&[&z(&[2, 2]), &z(&[3, 3])], 0)
        => "concat: shapes [2, 2] and [3, 3] differ outside axis 0";
    concat_ranks: Tensor::try_concat(&[&z(&[2, 2]), &z(&[2])], 1), Tensor::concat(&[&z(&[2, 2]), &z(&[2])], 1)
        => "concat: shapes [2, 2] and [2] differ outside axis 1";
    concat_axis: Tensor::try_concat(&[&z(&[2, 2])], 2), Tensor::concat(&[&z(&[2, 2])], 2)
        => "concat: axis 2 is out of range for a tensor with 2 dimensions";
    stack_nothing: Tensor::try_stack(&[], 0), Tensor::stack(&[], 0)
        => "stack: no tensors to stack";
    stack_shapes: Tensor::try_stack(&[&z(&[2]), &z(&[3])], 0), Tensor::stack(&[&z(&[2]), &z(&[3])], 0)
        => "stack: shapes [2] and [3] differ";
    stack_axis: Tensor::try_stack(&[&z(&[2, 3])], 3), Tensor::stack(&[&z(&[2, 3])], 3)
        => "stack: cannot insert axis 3 into shape [2, 3] (valid: -3..=2)";
    index_select_range: z(&[4, 3]).try_index_select(0, &[1, 4]), z(&[4, 3]).index_select(0, &[1, 4])
        => "index_select: index 4 is outside axis 0 of shape [4, 3]";
    index_select_axis: z(&[4, 3]).try_index_select(2, &[0]), z(&[4, 3]).index_select(2, &[0])
        => "index_select: axis 2 is out of range for a tensor with 2 dimensions";
    index_add_source: z(&[4, 3]).try_index_add(0, &[0, 1], &z(&[3, 3])), z(&[4, 3]).index_add(0, &[0, 1], &z(&[3, 3]))
        => "index_add: source should be [2, 3], found [3, 3]";
    index_add_range: z(&[4, 3]).try_index_add(1, &[3], &z(&[4, 1])), z(&[4, 3]).index_add(1, &[3], &z(&[4, 1]))
        => "index_add: index 3 is outside axis 1 of shape [4, 3]";
    gather_index_shape: z(&[2, 3]).try_gather(1, &z(&[2])), z(&[2, 3]).gather(1, &z(&[2]))
        => "gather: index shape [2] must match [2, 3] on every axis but 1";
    gather_index_shape_other_axis: z(&[2, 3]).try_gather(1, &z(&[3, 3])), z(&[2, 3]).gather(1, &z(&[3, 3]))
        => "gather: index shape [3, 3] must match [2, 3] on every axis but 1";
    gather_index_value: z(&[2, 3]).try_gather(1, &Tensor::full(&[2, 1], 3.0)), z(&[2, 3]).gather(1, &Tensor::full(&[2, 1], 3.0))
        => "gather: index 3 is not a whole number in 0..3";
    gather_fractional_index: z(&[2, 3]).try_gather(1, &Tensor::full(&[2, 1], 0.5)), z(&[2, 3]).gather(1, &Tensor::full(&[2, 1], 0.5))
        => "gather: index 0.5 is not a whole number in 0..3";
    gather_negative_index: z(&[2, 3]).try_gather(0, &Tensor::full(&[1, 3], -1.0)), z(&[2, 3]).gather(0, &Tensor::full(&[1, 3], -1.0))
        => "gather: index -1 is not a whole number in 0..2";
    scatter_add_source:
        z(&[2, 3]).try_scatter_add(1, &z(&[2, 2]), &z(&[2, 1])), z(&[2, 3]).scatter_add(1, &z(&[2, 2]), &z(&[2, 1]))
        => "scatter_add: source [2, 1] and index [2, 2] differ";
    scatter_add_index_shape:
        z(&[2, 3]).try_scatter_add(0, &z(&[2, 2]), &z(&[2, 2])), z(&[2, 3]).scatter_add(0, &z(&[2, 2]), &z(&[2, 2]))
        => "scatter_add: index shape [2, 2] must match [2, 3] on every axis but 0";
    scatter_add_index_value:
        z(&[2, 3]).try_scatter_add(0, &Tensor::full(&[1, 3], 2.0), &z(&[1, 3])), z(&[2, 3]).scatter_add(0, &Tensor::full(&[1, 3], 2.0), &z(&[1, 3]))
        => "scatter_add: index 2 is not a whole number in 0..2";

    matmul_inner: z(&[32, 784]).try_matmul(&z(&[512, 256])), z(&[32, 784]).matmul(&z(&[512, 256]))
        => "matmul: inner dimensions differ: [32, 784] x [512, 256]";
    matmul_vectors: z(&[3]).try_matmul(&z(&[4])), z(&[3]).matmul(&z(&[4]))
        => "matmul: inner dimensions differ: [3] x [4]";
    matmul_scalar: Tensor::scalar(1.0).try_matmul(&z(&[3])), Tensor::scalar(1.0).matmul(&z(&[3]))
        => "matmul: both operands need at least 1 dimension: [] x [3]";
    matmul_batch: z(&[2, 3, 4]).try_matmul(&z(&[3, 4, 5])), z(&[2, 3, 4]).matmul(&z(&[3, 4, 5]))
        => "matmul: batch dimensions do not broadcast: [2, 3, 4] x [3, 4, 5]";

    conv2d_rank:
        z(&[1, 28, 28]).try_conv2d(&z(&[6, 1, 5, 5]), None, Conv2dSpec::default()),
        z(&[1, 28, 28]).conv2d(&z(&[6, 1, 5, 5]), None, Conv2dSpec::default())
        => "conv2d: expects input [N, C, H, W] and weight [O, C/groups, kH, kW], found [1, 28, 28] and [6, 1, 5, 5]";
    conv2d_groups:
        z(&[1, 3, 8, 8]).try_conv2d(&z(&[4, 1, 3, 3]), None, Conv2dSpec::new(1, 0).with_groups(2)),
        z(&[1, 3, 8, 8]).conv2d(&z(&[4, 1, 3, 3]), None, Conv2dSpec::new(1, 0).with_groups(2))
        => "conv2d: 2 groups must divide input channels 3 and output channels 4";
    conv2d_zero_groups:
        z(&[1, 2, 8, 8]).try_conv2d(&z(&[4, 2, 3, 3]), None, Conv2dSpec::new(1, 0).with_groups(0)),
        z(&[1, 2, 8, 8]).conv2d(&z(&[4, 2, 3, 3]), None, Conv2dSpec::new(1, 0).with_groups(0))
        => "conv2d: 0 groups must divide input channels 2 and output channels 4";
    conv2d_channels:
        z(&[1, 3, 8, 8]).try_conv2d(&z(&[4, 2, 3, 3]), None, Conv2dSpec::default()),
        z(&[1, 3, 8, 8]).conv2d(&z(&[4, 2, 3, 3]), None, Conv2dSpec::default())
        => "conv2d: input [1, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] expects 2 per group x 1 groups";
    conv2d_kernel_too_large:
        z(&[1, 1, 4, 4]).try_conv2d(&z(&[1, 1, 5, 5]), None, Conv2dSpec::default()),
        z(&[1, 1, 4, 4]).conv2d(&z(&[1, 1, 5, 5]), None, Conv2dSpec::default())
        => "conv2d: kernel 5x5 with stride [1, 1], padding [0, 0] and dilation [1, 1] does not fit input [1, 1, 4, 4]";
    conv2d_dilated_kernel_too_large:
        z(&[1, 1, 6, 6]).try_conv2d(&z(&[1, 1, 3, 3]), None, Conv2dSpec::new(1, 1).with_dilation(4)),
        z(&[1, 1, 6, 6]).conv2d(&z(&[1, 1, 3, 3]), None, Conv2dSpec::new(1, 1).with_dilation(4))
        => "conv2d: kernel 3x3 with stride [1, 1], padding [1, 1] and dilation [4, 4] does not fit input [1, 1, 6, 6]";
    conv2d_zero_dilation:
        z(&[1, 1, 4, 4]).try_conv2d(&z(&[1, 1, 3, 3]), None, Conv2dSpec::new(1, 0).with_dilation(0)),
        z(&[1, 1, 4, 4]).conv2d(&z(&[1, 1, 3, 3]), None, Conv2dSpec::new(1, 0).with_dilation(0))
        => "conv2d: dilation should be at least 1, found [0, 0]";
    conv2d_zero_stride:
        z(&[1, 1, 4, 4]).try_conv2d(&z(&[1, 1, 3, 3]), None, Conv2dSpec::new(0, 0)),
        z(&[1, 1, 4, 4]).conv2d(&z(&[1, 1, 3, 3]), None, Conv2dSpec::new(0, 0))
        => "conv2d: kernel 3x3 with stride [0, 0], padding [0, 0] and dilation [1, 1] does not fit input [1, 1, 4, 4]";
    conv2d_bias:
        z(&[1, 1, 8, 8]).try_conv2d(&z(&[6, 1, 5, 5]), Some(&z(&[5])), Conv2dSpec::default()),
        z(&[1, 1, 8, 8]).conv2d(&z(&[6, 1, 5, 5]), Some(&z(&[5])), Conv2dSpec::default())
        => "conv2d: bias should be [6], found [5]";
    conv2d_backward_input_grad:
        Tensor::try_conv2d_backward_input(&z(&[1, 6, 23, 24]), &z(&[6, 1, 5, 5]), &[1, 1, 28, 28], Conv2dSpec::default()),
        Tensor::conv2d_backward_input(&z(&[1, 6, 23, 24]), &z(&[6, 1, 5, 5]), &[1, 1, 28, 28], Conv2dSpec::default())
        => "conv2d_backward_input: output gradient should be [1, 6, 24, 24], found [1, 6, 23, 24]";
    conv2d_backward_input_shapes:
        Tensor::try_conv2d_backward_input(&z(&[1, 6, 24, 24]), &z(&[6, 2, 5, 5]), &[1, 1, 28, 28], Conv2dSpec::default()),
        Tensor::conv2d_backward_input(&z(&[1, 6, 24, 24]), &z(&[6, 2, 5, 5]), &[1, 1, 28, 28], Conv2dSpec::default())
        => "conv2d_backward_input: input [1, 1, 28, 28] has 1 channels but weight [6, 2, 5, 5] expects 2 per group x 1 groups";
    conv2d_backward_weight_grad:
        Tensor::try_conv2d_backward_weight(&z(&[2, 6, 24, 24]), &z(&[1, 1, 28, 28]), &[6, 1, 5, 5], Conv2dSpec::default()),
        Tensor::conv2d_backward_weight(&z(&[2, 6, 24, 24]), &z(&[1, 1, 28, 28]), &[6, 1, 5, 5], Conv2dSpec::default())
        => "conv2d_backward_weight: output gradient should be [1, 6, 24, 24], found [2, 6, 24, 24]";
    conv2d_backward_weight_shapes:
        Tensor::try_conv2d_backward_weight(&z(&[1, 6, 24, 24]), &z(&[1, 1, 28, 28]), &[6, 1, 5], Conv2dSpec::default()),
        Tensor::conv2d_backward_weight(&z(&[1, 6, 24, 24]), &z(&[1, 1, 28, 28]), &[6, 1, 5], Conv2dSpec::default())
        => "conv2d_backward_weight: expects input [N, C, H, W] and weight [O, C/groups, kH, kW], found [1, 1, 28, 28] and [6, 1, 5]";

    max_pool_rank: z(&[4, 4]).try_max_pool2d(Pool2dSpec::new(2, 2, 0)), z(&[4, 4]).max_pool2d(Pool2dSpec::new(2, 2, 0))
        => "max_pool2d: expects an [N, C, H, W] input, found [4, 4]";
    max_pool_window:
        z(&[1, 1, 4, 4]).try_max_pool2d(Pool2dSpec::new(5, 1, 0)), z(&[1, 1, 4, 4]).max_pool2d(Pool2dSpec::new(5, 1, 0))
        => "max_pool2d: window [5, 5] with stride [1, 1] and padding [0, 0] does not fit input [1, 1, 4, 4]";
    max_pool_window_ceil_mode:
        z(&[1, 1, 4, 4]).try_max_pool2d(Pool2dSpec::new(6, 1, 0).with_ceil_mode(true)),
        z(&[1, 1, 4, 4]).max_pool2d(Pool2dSpec::new(6, 1, 0).with_ceil_mode(true))
        => "max_pool2d: window [6, 6] with stride [1, 1] and padding [0, 0] does not fit input [1, 1, 4, 4]";
    max_pool_padding:
        z(&[1, 1, 4, 4]).try_max_pool2d(Pool2dSpec::new(2, 2, 2)), z(&[1, 1, 4, 4]).max_pool2d(Pool2dSpec::new(2, 2, 2))
        => "max_pool2d: padding should be at most half the window [2, 2], found [2, 2]";
    avg_pool_padding_ceil_mode:
        z(&[1, 1, 5, 5]).try_avg_pool2d(Pool2dSpec::new(3, 2, 2).with_ceil_mode(true)),
        z(&[1, 1, 5, 5]).avg_pool2d(Pool2dSpec::new(3, 2, 2).with_ceil_mode(true))
        => "avg_pool2d: padding should be at most half the window [3, 3], found [2, 2]";
    max_pool_backward_shapes:
        Tensor::try_max_pool2d_backward(&z(&[1, 1, 2, 2]), &z(&[1, 1, 2, 1]), &[1, 1, 4, 4]),
        Tensor::max_pool2d_backward(&z(&[1, 1, 2, 2]), &z(&[1, 1, 2, 1]), &[1, 1, 4, 4])
        => "max_pool2d_backward: gradient [1, 1, 2, 2] and positions [1, 1, 2, 1] do not fit input [1, 1, 4, 4]";
    max_pool_backward_position:
        Tensor::try_max_pool2d_backward(&z(&[1, 1, 1, 1]), &Tensor::full(&[1, 1, 1, 1], 16.0), &[1, 1, 4, 4]),
        Tensor::max_pool2d_backward(&z(&[1, 1, 1, 1]), &Tensor::full(&[1, 1, 1, 1], 16.0), &[1, 1, 4, 4])
        => "max_pool2d_backward: position 16 is outside a plane of 16 elements";
    avg_pool_rank: z(&[1, 4, 4]).try_avg_pool2d(Pool2dSpec::new(2, 2, 0)), z(&[1, 4, 4]).avg_pool2d(Pool2dSpec::new(2, 2, 0))
        => "avg_pool2d: expects an [N, C, H, W] input, found [1, 4, 4]";
    avg_pool_stride:
        z(&[1, 1, 4, 4]).try_avg_pool2d(Pool2dSpec::new(2, 0, 0)), z(&[1, 1, 4, 4]).avg_pool2d(Pool2dSpec::new(2, 0, 0))
        => "avg_pool2d: window [2, 2] and stride [0, 0] should be positive";
    avg_pool_zero_window:
        z(&[1, 1, 4, 4]).try_avg_pool2d(Pool2dSpec::new(0, 1, 0).with_ceil_mode(true)),
        z(&[1, 1, 4, 4]).avg_pool2d(Pool2dSpec::new(0, 1, 0).with_ceil_mode(true))
        => "avg_pool2d: window [0, 0] and stride [1, 1] should be positive";
    avg_pool_backward_grad:
        Tensor::try_avg_pool2d_backward(&z(&[1, 1, 3, 3]), &[1, 1, 4, 4], Pool2dSpec::new(2, 2, 0)),
        Tensor::avg_pool2d_backward(&z(&[1, 1, 3, 3]), &[1, 1, 4, 4], Pool2dSpec::new(2, 2, 0))
        => "avg_pool2d_backward: gradient should be [1, 1, 2, 2], found [1, 1, 3, 3]";
}

#[test]
fn errors_carry_their_op_and_kind() {
    let err = z(&[32, 784]).try_matmul(&z(&[512, 256])).unwrap_err();
    assert_eq!((err.op(), err.kind()), ("matmul", ErrorKind::ShapeMismatch));
    let err = z(&[2]).try_sum_axes(&[1], false).unwrap_err();
    assert_eq!((err.op(), err.kind()), ("sum", ErrorKind::InvalidAxis));
    let err = Tensor::try_from_vec(vec![1.0], &[2]).unwrap_err();
    assert_eq!(
        (err.op(), err.kind()),
        ("from_vec", ErrorKind::LengthMismatch)
    );
    let err = z(&[2]).try_get(&[5]).unwrap_err();
    assert_eq!((err.op(), err.kind()), ("get", ErrorKind::IndexOutOfRange));
    let err = Tensor::try_arange(0.0, 1.0, 0.0).unwrap_err();
    assert_eq!(
        (err.op(), err.kind()),
        ("arange", ErrorKind::InvalidArgument)
    );
    // Usable as a boxed standard error.
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert_eq!(boxed.to_string(), "arange: cannot step from 0 to 1 by 0");
    let dilation_zero = Conv2dSpec::new(1, 0).with_dilation(0);
    let err = z(&[1, 1, 4, 4])
        .try_conv2d(&z(&[1, 1, 3, 3]), None, dilation_zero)
        .unwrap_err();
    assert_eq!(
        (err.op(), err.kind()),
        ("conv2d", ErrorKind::InvalidArgument)
    );
    let err = z(&[1, 1, 4, 4])
        .try_max_pool2d(Pool2dSpec::new(2, 2, 2))
        .unwrap_err();
    assert_eq!(
        (err.op(), err.kind()),
        ("max_pool2d", ErrorKind::InvalidArgument)
    );
}

#[test]
#[should_panic(expected = "dim: axis 2 is out of range for a tensor with 2 dimensions")]
fn dim_panics_on_a_bad_axis() {
    let _ = z(&[2, 3]).dim(2);
}

/// 2^32: two such dimensions multiply to 2^64, one past `usize::MAX`.
const HUGE: usize = 1 << 32;

#[test]
fn impossible_shapes_are_refused_by_every_fallible_constructor() {
    let message = format!(
        "expected a shape of at most {} elements, found [{HUGE}, {HUGE}]",
        strata_tensor::MAX_NUMEL
    );
    let err = Tensor::try_from_vec(vec![], &[HUGE, HUGE]).unwrap_err();
    assert_eq!(err.to_string(), format!("from_vec: {message}"));
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    // The product wraps to 0 = the data length without the check; a zero dimension does not
    // make the other ones free (their strides must still be representable).
    assert!(Tensor::try_from_vec(vec![], &[HUGE, HUGE, 0]).is_err());
    assert!(Tensor::try_from_vec(vec![], &[HUGE, 0]).is_ok());
    // Fits usize, but not in memory as f32.
    assert!(Tensor::try_from_vec(vec![], &[1 << 62]).is_err());
    assert!(strata_tensor::try_numel(&[HUGE, HUGE]).is_err());
    assert_eq!(strata_tensor::try_numel(&[HUGE, 7]).unwrap(), 7 * HUGE);

    let empty = Tensor::zeros(&[0]);
    let err = empty
        .try_reshape(&[HUGE as isize, HUGE as isize, 0])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "reshape: expected a shape of at most {} elements, found [{HUGE}, {HUGE}, 0]",
            strata_tensor::MAX_NUMEL
        )
    );
    assert!(empty
        .try_reshape(&[3, -1, HUGE as isize, HUGE as isize])
        .is_err());
    assert!(Tensor::zeros(&[1, 1])
        .try_broadcast_to(&[HUGE, HUGE])
        .is_err());
    assert!(Tensor::try_arange(0.0, 1e30, 1.0).is_err());
}

#[test]
#[should_panic(expected = "expected a shape of at most")]
fn zeros_of_an_impossible_shape_panics_with_the_reason() {
    let _ = Tensor::zeros(&[HUGE, HUGE]);
}
