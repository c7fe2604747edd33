/**
 * Cloud-init user data for an app server, as pure functions so the output can be checked
 * by the real `cloud-init schema` and `shellcheck` in the test suite.
 */
import { stringify } from "yaml";
import { shellQuote } from "../shell";

export const DEPLOY_USER = "deploy";
/** Where the one-time Tailscale auth key lands; the bootstrap deletes it after use. */
export const AUTHKEY_PATH = "/etc/platform/tailscale-authkey";
export const BOOTSTRAP_PATH = "/usr/local/sbin/platform-bootstrap";

export interface UserDataOptions {
    /** Tailnet hostname, stable per stack and server: `<stack>-web-<n>`. */
    hostname: string;
    /** ACL tags the device advertises; they must match the auth key's tags. */
    tags: string[];
    /** `tailscale`: Tailscale SSH; `openssh-tailnet`: OpenSSH listening only on the tailnet address. */
    sshMode: "tailscale" | "openssh-tailnet";
    /** The one-time auth key. Secret: the caller keeps the rendered text inside a secret Output. */
    authKey: string;
}

/** The script cloud-init runs once: apt repositories, Docker, Tailscale, tailnet join, SSH binding. */
export function renderBootstrapScript(o: Omit<UserDataOptions, "authKey">): string {
    const lines = [
        "#!/usr/bin/env bash",
        "# First-boot bootstrap, written by the platform's Pulumi program. Runs once from cloud-init.",
        "set -euo pipefail",
        "export DEBIAN_FRONTEND=noninteractive",
        "",
        `TS_HOSTNAME=${shellQuote(o.hostname)}`,
        `TS_TAGS=${shellQuote(o.tags.join(","))}`,
        `AUTHKEY_FILE=${shellQuote(AUTHKEY_PATH)}`,
        "",
        "# shellcheck source=/dev/null",
        ". /etc/os-release",
        'arch="$(dpkg --print-architecture)"',
        "",
        "# Docker's and Tailscale's own apt repositories, each pinned to its signing key.",
        "install -m 0755 -d /etc/apt/keyrings",
        'curl -fsSL --retry 5 "https://download.docker.com/linux/${ID}/gpg" -o /etc/apt/keyrings/docker.asc',
        "chmod a+r /etc/apt/keyrings/docker.asc",
        'echo "deb [arch=${arch} signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/${ID} ${VERSION_CODENAME} stable" > /etc/apt/sources.list.d/docker.list',
        'curl -fsSL --retry 5 "https://pkgs.tailscale.com/stable/${ID}/${VERSION_CODENAME}.noarmor.gpg" -o /usr/share/keyrings/tailscale-archive-keyring.gpg',
        'curl -fsSL --retry 5 "https://pkgs.tailscale.com/stable/${ID}/${VERSION_CODENAME}.tailscale-keyring.list" -o /etc/apt/sources.list.d/tailscale.list',
        "apt-get update",
        "apt-get install -y docker-ce docker-ce-cli containerd.io docker-compose-plugin tailscale",
        "systemctl enable --now docker tailscaled",
        `usermod -aG docker ${DEPLOY_USER}`,
        "",
        "# Join the tailnet as a tagged device; the key is single-use and is removed right after.",
        'ts_args=(--auth-key="file:${AUTHKEY_FILE}" --hostname="${TS_HOSTNAME}" --advertise-tags="${TS_TAGS}")',
    ];
    if (o.sshMode === "tailscale") {
        lines.push("ts_args+=(--ssh)");
    }
    lines.push('tailscale up "${ts_args[@]}"', 'shred -u "${AUTHKEY_FILE}" 2>/dev/null || rm -f "${AUTHKEY_FILE}"');
    if (o.sshMode === "openssh-tailnet") {
        lines.push(
            "",
            "# OpenSSH listens on the tailnet address only. Non-local bind lets sshd start at boot",
            "# before tailscaled has brought the address up.",
            'ts_ip="$(tailscale ip -4)"',
            "echo 'net.ipv4.ip_nonlocal_bind = 1' > /etc/sysctl.d/60-platform-nonlocal-bind.conf",
            "sysctl --system >/dev/null",
            'printf "ListenAddress %s\\nPasswordAuthentication no\\n" "${ts_ip}" > /etc/ssh/sshd_config.d/10-platform-tailnet-only.conf',
            "systemctl daemon-reload",
            "systemctl restart ssh.socket 2>/dev/null || systemctl restart ssh",
        );
    }
    lines.push("", 'echo "platform bootstrap finished for ${TS_HOSTNAME}"', "");
    return lines.join("\n");
}

/** Unattended security upgrades, on from first boot. */
export const AUTO_UPGRADES = [
    'APT::Periodic::Update-Package-Lists "1";',
    'APT::Periodic::Unattended-Upgrade "1";',
    'APT::Periodic::AutocleanInterval "7";',
    "",
].join("\n");

/** The full `#cloud-config` document. */
export function renderUserData(o: UserDataOptions): string {
    const doc = {
        timezone: "Etc/UTC",
        package_update: true,
        package_upgrade: true,
        packages: ["ca-certificates", "curl", "unattended-upgrades"],
        // The docker group exists before Docker is installed so the deploy user can join it
        // at creation; the docker-ce package then reuses the group.
        groups: ["docker"],
        users: [
            "default",
            {
                name: DEPLOY_USER,
                gecos: "Deploys containers (docker group, no sudo)",
                groups: "docker",
                shell: "/bin/bash",
                lock_passwd: true,
            },
        ],
        write_files: [
            { path: "/etc/apt/apt.conf.d/20auto-upgrades", permissions: "0644", content: AUTO_UPGRADES },
            { path: AUTHKEY_PATH, permissions: "0600", owner: "root:root", content: o.authKey },
            { path: BOOTSTRAP_PATH, permissions: "0755", owner: "root:root", content: renderBootstrapScript(o) },
        ],
        runcmd: [[BOOTSTRAP_PATH]],
        final_message: "cloud-init finished after $UPTIME seconds",
    };
    return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
