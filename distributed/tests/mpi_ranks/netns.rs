//! Two simulated hosts on one machine: two network namespaces joined by a veth pair, with
//! addresses 127.77.0.1 and 127.77.0.2 that exist only inside them, and `mpirun` starting the
//! remote rank through a fake remote shell that enters the other namespace (the recipe of
//! `shared/MPI.md` §4). Created by the test, removed when dropped. Needs root and iproute2.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Addresses of the two hosts (inside their namespaces only).
const ADDRESSES: [&str; 2] = ["127.77.0.1", "127.77.0.2"];

/// The two namespaces, the veth interface (same name on both sides) and the scripts.
pub struct TwoHosts {
    namespaces: [String; 2],
    interface: String,
    scripts: PathBuf,
}

impl TwoHosts {
    /// Host names the ranks see (each namespace has its own UTS namespace too).
    pub const HOST_NAMES: [&'static str; 2] = ["nodeA", "nodeB"];

    /// Why the simulation cannot run here, if it cannot.
    pub fn available() -> Result<(), String> {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let root = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0");
        if !root {
            return Err("creating network namespaces needs root (CI runs as root)".into());
        }
        for tool in ["ip", "tc", "unshare", "hostname"] {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success());
            if !found {
                return Err(format!("`{tool}` not found (iproute2 / util-linux)"));
            }
        }
        Ok(())
    }

    /// Creates the namespaces, the veth pair and the launch scripts under `dir`.
    pub fn create(dir: &Path) -> Result<Self, String> {
        let id = std::process::id();
        let hosts = TwoHosts {
            namespaces: [format!("strata{id}a"), format!("strata{id}b")],
            interface: format!("smpi{}", id % 100_000),
            scripts: dir.to_path_buf(),
        };
        hosts.set_up()?; // On failure, dropping `hosts` removes what was made.
        Ok(hosts)
    }

    fn set_up(&self) -> Result<(), String> {
        let [a, b] = &self.namespaces;
        let ifc = self.interface.as_str();
        ip(&["netns", "add", a])?;
        ip(&["netns", "add", b])?;
        ip(&[
            "link", "add", ifc, "netns", a, "type", "veth", "peer", "name", ifc, "netns", b,
        ])?;
        for (ns, address) in self.namespaces.iter().zip(ADDRESSES) {
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            // lo owns all of 127.0.0.0/8 through the local table: shrink it so that
            // 127.77.0.0/24 is routed over the veth.
            ip(&["-n", ns, "addr", "del", "127.0.0.1/8", "dev", "lo"])?;
            ip(&["-n", ns, "addr", "add", "127.0.0.1/32", "dev", "lo"])?;
            run(Command::new("ip").args([
                "netns",
                "exec",
                ns,
                "sysctl",
                "-qw",
                "net.ipv4.conf.all.route_localnet=1",
                &format!("net.ipv4.conf.{ifc}.route_localnet=1"),
                // Otherwise Open MPI's TCP transport also tries the link-local IPv6 address.
                &format!("net.ipv6.conf.{ifc}.disable_ipv6=1"),
            ]))?;
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{address}/24"),
                "dev",
                ifc,
            ])?;
            ip(&["-n", ns, "link", "set", ifc, "up"])?;
        }
        self.write_scripts()
    }

    /// `as-host NAME CMD…` runs CMD with host name NAME (in a new UTS namespace);
    /// `nsrsh HOST CMD` is the remote shell mpirun uses to start its daemon on HOST.
    fn write_scripts(&self) -> Result<(), String> {
        let as_host = self.scripts.join("as-host");
        let [a, b] = &self.namespaces;
        let [name_a, name_b] = Self::HOST_NAMES;
        let [addr_a, addr_b] = ADDRESSES;
        write_script(
            &as_host,
            "#!/bin/sh\nhostname \"$1\" && shift && exec \"$@\"\n",
        )?;
        write_script(
            &self.nsrsh(),
            &format!(
                "#!/bin/sh\n\
                 host=$1; shift\n\
                 case \"$host\" in\n\
                 {addr_a}|{name_a}) ns={a} name={name_a} ;;\n\
                 {addr_b}|{name_b}) ns={b} name={name_b} ;;\n\
                 *) echo \"nsrsh: unknown host $host\" >&2; exit 1 ;;\n\
                 esac\n\
                 exec ip netns exec \"$ns\" unshare --uts {} \"$name\" /bin/sh -c \"$*\"\n",
                as_host.display()
            ),
        )
    }

    fn nsrsh(&self) -> PathBuf {
        self.scripts.join("nsrsh")
    }

    /// `mpirun` started inside the first host, placing one rank on each host, over TCP on
    /// the veth only.
    pub fn mpirun(&self, ranks: usize, program: &[String]) -> Command {
        let mut command = Command::new("ip");
        let ifc = self.interface.as_str();
        command
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .args(["netns", "exec", &self.namespaces[0], "unshare", "--uts"])
            .arg(self.scripts.join("as-host"))
            .arg(Self::HOST_NAMES[0])
            .args(["mpirun", "-np", &ranks.to_string()])
            .args(["--host", &format!("{}:1,{}:1", ADDRESSES[0], ADDRESSES[1])])
            .args(["--mca", "plm_rsh_agent"])
            .arg(self.nsrsh())
            .args(["--mca", "btl", "self,tcp"])
            .args(["--mca", "btl_tcp_if_include", ifc])
            .args(["--mca", "oob_tcp_if_include", ifc])
            // Each simulated host would pin its rank to core 0: both on one core.
            .args(["--bind-to", "none"])
            .args(program);
        command
    }

    /// Limits the link to `rate` (a `tc` rate such as `1gbit`) in both directions, with a
    /// token-bucket filter on each end of the veth pair: the closest throttle to a cluster
    /// link this kernel offers (it has `tbf` and `htb` but no `netem`, so no added delay).
    pub fn throttle(&self, rate: &str) -> Result<(), String> {
        for ns in &self.namespaces {
            run(Command::new("ip")
                .args(["netns", "exec", ns, "tc", "qdisc", "replace"])
                .args(["dev", &self.interface, "root", "tbf", "rate", rate])
                // 64 KiB of burst (half a millisecond at 1 Gbit/s) and up to 50 ms of queue.
                .args(["burst", "64kb", "latency", "50ms"]))?;
        }
        Ok(())
    }

    /// Bytes sent so far from the first host over the veth.
    pub fn veth_bytes(&self) -> Result<u64, String> {
        let path = format!("/sys/class/net/{}/statistics/tx_bytes", self.interface);
        let output = Command::new("ip")
            .args(["netns", "exec", &self.namespaces[0], "cat", &path])
            .output()
            .map_err(|err| format!("cannot read {path}: {err}"))?;
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|err| format!("{path} in {}: {err}", self.namespaces[0]))
    }
}

impl Drop for TwoHosts {
    /// Deletes the namespaces, and the veth pair with them.
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    run(Command::new("ip").args(args))
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|err| format!("cannot run {command:?}: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn write_script(path: &Path, text: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)))
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}
