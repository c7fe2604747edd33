import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { renderBootstrapScript, renderUserData, serverKeys, tailnetHostname } from "../infra/servers";
import { AUTHKEY_PATH } from "../infra/servers/userdata";
import { atLeastOne, fixtureValue, named, ofType, record, recordTeam, shellcheck, T, TEAMS, tmpdir } from "./helpers";

/** Runs the real `cloud-init schema` on a user-data document; returns its output on failure. */
function cloudInitSchema(userData: string): { ok: boolean; output: string } {
    const file = path.join(tmpdir("ud-"), "user-data.yaml");
    fs.writeFileSync(file, userData);
    try {
        return {
            ok: true,
            output: execFileSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8", stdio: "pipe" }),
        };
    } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
    }
}

describe("servers", () => {
    it("creates one droplet per configured server, in the VPC, tagged by stack and role", async () => {
        for (const [team, stack] of TEAMS.flatMap((t) => ["dev", "staging", "prod"].map((s) => [t, s] as const))) {
            const rec = await recordTeam(team, stack);
            const droplets = ofType(rec, T.droplet);
            assert.strictEqual(droplets.length, Number(fixtureValue(stack, "serverCount", team)), `${team}/${stack}`);
            const vpcId = ofType(rec, T.vpc).length === 1 ? droplets[0].inputs.vpcUuid : undefined;
            for (const d of droplets) {
                assert.strictEqual(d.inputs.size, fixtureValue(stack, "serverSize", team));
                assert.strictEqual(d.inputs.region, fixtureValue(stack, "region", team));
                assert.strictEqual(d.inputs.image, fixtureValue(stack, "serverImage", team));
                assert.strictEqual(d.inputs.monitoring, true);
                assert.ok(d.inputs.vpcUuid && d.inputs.vpcUuid === vpcId);
                assert.deepStrictEqual(d.inputs.tags, [`platform-${stack}`, `platform-${stack}-app`]);
                assert.ok((d.inputs.sshKeys as string[]).length >= 1);
                assert.strictEqual(d.inputs.backups, stack !== "dev");
            }
        }
    });

    it("ignores no droplet input, so a replacement is built from current inputs, and keeps user data secret", async () => {
        const rec = await record("prod");
        for (const d of atLeastOne(ofType(rec, T.droplet), "droplet")) {
            // The engine substitutes old values for ignored inputs even on replacement.
            assert.deepStrictEqual(d.opts.ignoreChanges, []);
            assert.ok(d.secretInputs.includes("userData"), "user data carries an auth key: it must be secret");
        }
    });

    it("gives each server a stable tailnet hostname from stack and index", () => {
        assert.deepStrictEqual(serverKeys(3), ["web-1", "web-2", "web-3"]);
        assert.strictEqual(tailnetHostname("prod", "web-2"), "prod-web-2");
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: the user data the program registers passes the real cloud-init schema`, async () => {
            const rec = await record(stack);
            for (const d of atLeastOne(ofType(rec, T.droplet), "droplet")) {
                const ud = String(d.inputs.userData);
                assert.ok(ud.startsWith("#cloud-config\n"));
                const res = cloudInitSchema(ud);
                assert.ok(res.ok, res.output);
                const doc = parse(ud) as Record<string, unknown>;
                const host = `${stack}-${d.name.slice(stack.length + 1)}`;
                const script = (doc.write_files as { path: string; content: string }[]).find((f) =>
                    f.path.endsWith("platform-bootstrap"),
                )!.content;
                assert.match(script, new RegExp(`TS_HOSTNAME=${host}\\n`));
                assert.match(script, new RegExp(`TS_TAGS=tag:server,tag:${stack}\\n`));
            }
        });
    }

    it("user data installs Docker and Tailscale, adds a non-root deploy user in the docker group, upgrades, UTC", () => {
        const doc = parse(
            renderUserData({
                hostname: "prod-web-1",
                tags: ["tag:server"],
                sshMode: "tailscale",
                authKey: "tskey-auth-x",
            }),
        ) as Record<string, any>;
        assert.strictEqual(doc.timezone, "Etc/UTC");
        assert.ok(doc.packages.includes("unattended-upgrades"));
        const deploy = doc.users.find((u: any) => u.name === "deploy");
        assert.strictEqual(deploy.groups, "docker");
        assert.strictEqual(deploy.sudo, undefined, "the deploy user has no sudo");
        assert.ok(doc.groups.includes("docker"));
        const files = Object.fromEntries(doc.write_files.map((f: any) => [f.path, f]));
        assert.match(files["/etc/apt/apt.conf.d/20auto-upgrades"].content, /Unattended-Upgrade "1"/);
        assert.strictEqual(files[AUTHKEY_PATH].permissions, "0600");
        const script: string = files["/usr/local/sbin/platform-bootstrap"].content;
        assert.match(script, /download\.docker\.com/);
        assert.match(script, /pkgs\.tailscale\.com/);
        assert.match(script, /apt-get install -y docker-ce .*tailscale/);
        assert.match(script, /ts_args\+=\(--ssh\)/);
        assert.match(script, /shred -u "\$\{AUTHKEY_FILE\}"/, "the one-time key is removed after use");
        assert.ok(!script.includes("tskey-auth-x"), "the key is never inside the script");
    });

    it("with openssh-tailnet, binds OpenSSH to the tailnet address and does not enable Tailscale SSH", () => {
        const script = renderBootstrapScript({
            hostname: "dev-web-1",
            tags: ["tag:server"],
            sshMode: "openssh-tailnet",
        });
        assert.ok(!script.includes("--ssh"));
        assert.match(script, /ListenAddress %s/);
        assert.match(script, /tailscale ip -4/);
        const res = cloudInitSchema(
            renderUserData({ hostname: "dev-web-1", tags: ["tag:server"], sshMode: "openssh-tailnet", authKey: "k" }),
        );
        assert.ok(res.ok, res.output);
    });

    it("cloud-init schema catches a broken document (the check is real)", () => {
        const res = cloudInitSchema("#cloud-config\ntimezone: [1, 2]\nruncmd: 7\n");
        assert.ok(!res.ok);
        assert.match(res.output, /runcmd|timezone/);
    });

    for (const mode of ["tailscale", "openssh-tailnet"] as const) {
        it(`the bootstrap script passes shellcheck (${mode})`, () => {
            assert.strictEqual(
                shellcheck(renderBootstrapScript({ hostname: "x-web-1", tags: ["tag:a", "tag:b"], sshMode: mode })),
                "",
            );
        });
    }

    it("shell-quotes hostile config values in the script", () => {
        const script = renderBootstrapScript({ hostname: "a'b; rm -rf /", tags: ["tag:x"], sshMode: "tailscale" });
        assert.match(script, /TS_HOSTNAME='a'\\''b; rm -rf \/'/);
        assert.strictEqual(shellcheck(script), "");
    });

    it("keeps the tailnet keys single-use, preauthorized, tagged and short-lived", async () => {
        const rec = await record("staging");
        const keys = ofType(rec, T.tailnetKey);
        assert.strictEqual(keys.length, 2);
        for (const k of keys) {
            assert.strictEqual(k.inputs.reusable, false);
            assert.strictEqual(k.inputs.preauthorized, true);
            assert.deepStrictEqual(k.inputs.tags, ["tag:server", "tag:staging"]);
            assert.ok((k.inputs.expiry as number) <= 3600);
            assert.strictEqual(k.inputs.recreateIfInvalid, "never");
            assert.strictEqual(k.opts.provider, "tailscale");
        }
        assert.ok(named(rec, "pulumi:providers:tailscale", "tailscale").secretInputs.includes("apiKey"));
    });
});
