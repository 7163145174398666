//! Containers and systemd units from /proc/PID/cgroup paths (cgroup v1 and v2
//! shapes of docker, containerd, CRI-O, podman and Kubernetes).
//!
//! Path shapes, as each runtime creates them (systemd cgroup driver first,
//! cgroupfs driver second):
//! - docker: `/system.slice/docker-<64 hex>.scope`, `/docker/<64 hex>`
//! - containerd (CRI): `.../cri-containerd-<64 hex>.scope`, `/kubepods/.../<64 hex>`;
//!   nerdctl: `/system.slice/nerdctl-<64 hex>.scope`, `/default/<64 hex>`
//! - CRI-O: `.../crio-<64 hex>.scope` (`crio-conmon-<id>.scope` is its monitor)
//! - podman: `.../libpod-<64 hex>.scope[/container]`, `/libpod_parent/libpod-<64 hex>`
//!   (`libpod-conmon-<id>.scope` is its monitor)
//! - Kubernetes pods: `kubepods-<qos>-pod<uid with _>.slice`, `/kubepods/<qos>/pod<uid>`
//! - systemd: every `<name>.service` component (laurel's list), and the last
//!   `.service` or `.scope` unit.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Container {
    /// The 64 hex digit id, lower case.
    pub id: String,
    /// docker, containerd, cri-o, podman, or "" when the shape does not say.
    pub runtime: String,
    /// The Kubernetes pod uid (with dashes), if the path has one.
    pub pod_uid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CgroupInfo {
    pub container: Option<Container>,
    /// Names of the `.service` units on the path without the suffix, outermost
    /// first (laurel's `systemd_service`).
    pub services: Vec<String>,
    /// The innermost systemd unit (`.service` or `.scope`), with its suffix.
    pub unit: Option<String>,
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Runtime prefixes of `<prefix><id>.scope` (and cgroupfs `<prefix><id>`) names.
const PREFIXES: &[(&str, &str)] = &[
    ("docker-", "docker"),
    ("cri-containerd-", "containerd"),
    ("containerd-", "containerd"),
    ("nerdctl-", "containerd"),
    ("crio-", "cri-o"),
    ("libpod-", "podman"),
];

/// Parents that name the runtime of a bare `<64 hex>` component (cgroupfs driver).
const PARENTS: &[(&str, &str)] = &[
    ("docker", "docker"),
    ("libpod_parent", "podman"),
    ("default", "containerd"),
    ("k8s.io", "containerd"),
    ("moby", "docker"),
];

fn container_in_component(name: &str, parent: Option<&str>) -> Option<(String, String)> {
    let stem = name.strip_suffix(".scope").unwrap_or(name);
    for (prefix, runtime) in PREFIXES {
        if let Some(id) = stem.strip_prefix(prefix) {
            if is_hex64(id) {
                return Some((id.to_ascii_lowercase(), (*runtime).to_string()));
            }
        }
    }
    if is_hex64(stem) {
        let runtime = parent
            .and_then(|p| PARENTS.iter().find(|(n, _)| *n == p))
            .map(|(_, r)| (*r).to_string())
            .unwrap_or_default();
        return Some((stem.to_ascii_lowercase(), runtime));
    }
    None
}

fn pod_uid(name: &str) -> Option<String> {
    // systemd driver: kubepods-burstable-pod<uid_with_underscores>.slice
    // cgroupfs driver: pod<uid>
    let stem = name.strip_suffix(".slice").unwrap_or(name);
    let at = stem.rfind("pod")?;
    let uid = &stem[at + 3..];
    let before = &stem[..at];
    if !(before.is_empty() || before.ends_with('-')) {
        return None;
    }
    let uid = uid.replace('_', "-");
    let ok = uid.len() == 36
        && uid.bytes().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == b'-') && (c == b'-' || c.is_ascii_hexdigit())
        });
    ok.then_some(uid)
}

/// What one cgroup path (the part after the second ':') says.
pub fn parse_path(path: &str) -> CgroupInfo {
    let mut info = CgroupInfo::default();
    let mut pod = None;
    let mut parent: Option<&str> = None;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if info.container.is_none() {
            if let Some((id, runtime)) = container_in_component(part, parent) {
                info.container = Some(Container {
                    id,
                    runtime,
                    pod_uid: None,
                });
            }
        }
        if pod.is_none() {
            pod = pod_uid(part);
        }
        if let Some(svc) = part.strip_suffix(".service") {
            info.services.push(svc.to_string());
            info.unit = Some(part.to_string());
        } else if part.ends_with(".scope") {
            info.unit = Some(part.to_string());
        }
        parent = Some(part);
    }
    if let Some(c) = info.container.as_mut() {
        c.pod_uid = pod;
    }
    info
}

/// What a whole /proc/PID/cgroup file says: the container from the first line
/// that names one (the v2 line `0::` first, then v1's `name=systemd`, then the
/// rest in file order), systemd units from the v2 or `name=systemd` line.
pub fn parse_file(text: &str) -> CgroupInfo {
    let mut lines: Vec<(u8, &str)> = Vec::new();
    for line in text.lines() {
        let mut it = line.splitn(3, ':');
        let (Some(hier), Some(ctrl), Some(path)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let rank = match (hier, ctrl) {
            ("0", "") => 0,
            (_, "name=systemd") => 1,
            _ => 2,
        };
        lines.push((rank, path));
    }
    lines.sort_by_key(|(rank, _)| *rank);
    let mut out = CgroupInfo::default();
    let mut have_units = false;
    for (rank, path) in lines {
        let info = parse_path(path);
        if out.container.is_none() {
            out.container = info.container;
        }
        if !have_units && rank < 2 && (info.unit.is_some() || !info.services.is_empty()) {
            out.services = info.services;
            out.unit = info.unit;
            have_units = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "2b45249a1a21d3806efd98e2eb93c7dc319c645a27e7cd85362227becc68ca44";
    const POD: &str = "0f8b2c4e-1a2b-4c3d-8e9f-0123456789ab";

    fn check(path: &str, runtime: &str, pod: Option<&str>) {
        let info = parse_path(path);
        let c = info
            .container
            .unwrap_or_else(|| panic!("no container in {path}"));
        assert_eq!(c.id, ID, "{path}");
        assert_eq!(c.runtime, runtime, "{path}");
        assert_eq!(c.pod_uid.as_deref(), pod, "{path}");
    }

    #[test]
    fn every_runtime_shape() {
        let pod_sd = POD.replace('-', "_");
        check(&format!("/system.slice/docker-{ID}.scope"), "docker", None);
        check(&format!("/docker/{ID}"), "docker", None);
        check(
            &format!("/system.slice/containerd-{ID}.scope"),
            "containerd",
            None,
        );
        check(
            &format!("/system.slice/nerdctl-{ID}.scope"),
            "containerd",
            None,
        );
        check(&format!("/default/{ID}"), "containerd", None);
        check(
            &format!("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope/container"),
            "podman",
            None,
        );
        check(&format!("/machine.slice/libpod-{ID}.scope"), "podman", None);
        check(&format!("/libpod_parent/libpod-{ID}"), "podman", None);
        check(
            &format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{pod_sd}.slice/cri-containerd-{ID}.scope"),
            "containerd",
            Some(POD),
        );
        check(
            &format!("/kubepods.slice/kubepods-pod{pod_sd}.slice/crio-{ID}.scope"),
            "cri-o",
            Some(POD),
        );
        check(
            &format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{pod_sd}.slice/docker-{ID}.scope"),
            "docker",
            Some(POD),
        );
        check(&format!("/kubepods/burstable/pod{POD}/{ID}"), "", Some(POD));
        check(&format!("/kubepods/pod{POD}/{ID}"), "", Some(POD));
        check(
            &format!("/system.slice/docker-{}.scope", ID.to_uppercase()),
            "docker",
            None,
        );
    }

    #[test]
    fn monitors_and_non_containers() {
        for p in [
            "/",
            "/init.scope",
            "/user.slice/user-1000.slice/session-3.scope",
            "/system.slice/crio-conmon-abc.scope",
            &format!("/machine.slice/libpod-conmon-{ID}.scope"),
            &format!("/system.slice/docker-{}.scope", &ID[..63]),
            &format!("/system.slice/docker-{}x.scope", &ID[..63]),
            "/memory/process_api/bcd88864c5d775072a3db8a37344c8f8",
        ] {
            assert_eq!(parse_path(p).container, None, "{p}");
        }
    }

    #[test]
    fn systemd_units() {
        let i = parse_path("/system.slice/nginx.service");
        assert_eq!(i.services, ["nginx"]);
        assert_eq!(i.unit.as_deref(), Some("nginx.service"));
        let i = parse_path("/user.slice/user-1000.slice/user@1000.service/app.slice/emacs.service");
        assert_eq!(i.services, ["user@1000", "emacs"]);
        let i = parse_path("/user.slice/user-1000.slice/session-3.scope");
        assert!(i.services.is_empty());
        assert_eq!(i.unit.as_deref(), Some("session-3.scope"));
    }

    #[test]
    fn whole_files_v1_v2_hybrid() {
        let v2 = format!("0::/system.slice/docker-{ID}.scope\n");
        let f = parse_file(&v2);
        assert_eq!(f.container.unwrap().runtime, "docker");
        assert_eq!(f.unit.as_deref(), Some(&*format!("docker-{ID}.scope")));
        let v1 = format!(
            "12:pids:/docker/{ID}\n11:memory:/docker/{ID}\n1:name=systemd:/system.slice/containerd.service\n"
        );
        let f = parse_file(&v1);
        assert_eq!(f.container.unwrap().id, ID);
        assert_eq!(f.services, ["containerd"]);
        let hybrid =
            format!("9:name=systemd:/\n4:memory:/\n0::/kubepods/besteffort/pod{POD}/{ID}\n");
        let f = parse_file(&hybrid);
        assert_eq!(f.container.unwrap().pod_uid.as_deref(), Some(POD));
        assert_eq!(parse_file(""), CgroupInfo::default());
        assert_eq!(parse_file("garbage\n::\n:"), CgroupInfo::default());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse_file(&s);
            let _ = parse_path(&s);
        }
    }
}
