/**
 * The engine tier: the real Pulumi CLI and language host built by `npm run engine:build`,
 * run on fixture stacks with a local file backend, the passphrase secrets provider and no
 * credentials. Cases that need a binary the build could not make are reported as NOT RUN
 * (mocha "pending") with the reason; none of them counts as passed.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { evaluate, stackOfUrn, Subject } from "../../policy/rules";
import { findDestructiveChanges } from "../../tools/lib/guard";
import { DIGEST_B, FIXTURES, withChanges } from "./fixtures";
import { startGithubStandIn, StandIn } from "./github-standin";
import { EngineProject, engineMissing, lastLines, missingProviders, PreviewDigest, readManifest } from "./harness";
import { deploymentFromPreview } from "./state";

const manifest = readManifest();
const missing = engineMissing(manifest);
const providersMissing = missingProviders(manifest);

/** Skips a case that needs every provider plugin, saying which are missing and why. */
function needProviders(ctx: Mocha.Context): void {
    if (providersMissing.length === 0) return;
    process.stdout.write(`      NOT RUN: needs provider plugins the build could not make (${providersMissing.map((p) => p.name).join(", ")}; see .engine/manifest.json)\n`);
    ctx.skip();
}

function typeOf(step: NonNullable<PreviewDigest["steps"]>[number]): string {
    return step.newState?.type ?? step.oldState?.type ?? "";
}

/** The rules' view of a real preview: what each resource would be after the change. */
function subjectsOfPreview(p: PreviewDigest): Subject[] {
    return (p.steps ?? []).filter((s) => s.newState && s.op !== "delete").map((s) => {
        const st = s.newState as { type: string; inputs?: Record<string, unknown>; protect?: boolean; id?: string };
        return { type: st.type, name: s.urn.split("::").pop() ?? s.urn, stack: stackOfUrn(s.urn), props: st.inputs ?? {}, protect: st.protect ?? false, id: st.id };
    });
}

describe("engine tier: the real pulumi CLI built from Go modules", function () {
    this.timeout(30 * 60_000);

    before(function () {
        // Not built is a failure, never a pass: the tier exists to run the real engine.
        if (missing) throw new Error(`${missing}`);
    });

    it("runs the CLI built from the module proxy at its pinned version", function () {
        const p = new EngineProject();
        try {
            const r = p.pulumi(["version"]);
            assert.strictEqual(r.code, 0, lastLines(r.stderr));
            const pinned = manifest!.built.find((b) => b.name === "pulumi")!.version;
            assert.strictEqual(r.stdout.trim(), pinned);
        } finally {
            p.dispose();
        }
    });

    describe("the CLI and the language host run the program on a fixture stack", function () {
        let project: EngineProject;
        before(function () {
            project = new EngineProject();
            project.initStack("dev", FIXTURES.dev);
        });
        after(() => project?.dispose());

        it("refuses a stack value whose type contradicts Pulumi.yaml, naming the key", function () {
            project.writeConfig("dev", withChanges(FIXTURES.dev, { serverCount: "two" }));
            const r = project.pulumi(["preview", "--stack", "dev"]);
            const out = `${r.stdout}\n${r.stderr}`;
            assert.notStrictEqual(r.code, 0, "preview accepted serverCount: two");
            // The CLI's own check of Pulumi.yaml's declared types, before the program runs.
            assert.match(out, /configuration key 'serverCount' must be of type 'integer'/);
        });

        it("reports the program's own config error in one line, without a stack trace", function () {
            project.writeConfig("dev", withChanges(FIXTURES.dev, { dbPoolMode: "bogus" }));
            const r = project.pulumi(["preview", "--stack", "dev"]);
            const out = `${r.stdout}\n${r.stderr}`;
            assert.notStrictEqual(r.code, 0, "preview accepted dbPoolMode: bogus");
            const lines = out.split("\n").filter((l) => l.includes("dbPoolMode"));
            assert.ok(lines.some((l) => l.includes('platform:dbPoolMode: "bogus" is not valid') && l.includes("allowed: transaction, session, statement")), `no one-line error naming the key, value and allowed values in:\n${out}`);
            assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace reached the user:\n${out}`);
        });
    });

    describe("secrets through the real CLI and language host", function () {
        it("the CLI refuses a key Pulumi.yaml declares secret when it is stored in plain text, without printing it", function () {
            const p = new EngineProject();
            try {
                const { tailscaleApiKey, ...others } = FIXTURES.dev.secrets;
                p.initStack("dev", { config: { ...FIXTURES.dev.config, tailscaleApiKey }, secrets: others });
                const r = p.pulumi(["preview", "--stack", "dev"]);
                const out = `${r.stdout}\n${r.stderr}`;
                assert.notStrictEqual(r.code, 0, "a plain-text API key was accepted");
                assert.match(out, /configuration key 'tailscaleApiKey' must be encrypted/);
                assert.ok(!out.includes(tailscaleApiKey), "the secret's value was printed");
            } finally {
                p.dispose();
            }
        });

        it("the program refuses a registry token stored in plain text: the runtime knows which keys are secret", function () {
            // ghcrToken is optional, so Pulumi.yaml cannot declare it secret; the program's own
            // check needs the secret keys the CLI hands the host (mocks set them themselves).
            const token = "ghp_fixtureplaintexttoken";
            const p = new EngineProject();
            try {
                p.initStack("dev", { config: { ...FIXTURES.dev.config, ghcrUsername: "fixture-bot", ghcrToken: token }, secrets: FIXTURES.dev.secrets });
                const r = p.pulumi(["preview", "--stack", "dev"]);
                const out = `${r.stdout}\n${r.stderr}`;
                assert.notStrictEqual(r.code, 0, "a plain-text registry token was accepted");
                assert.match(out, /platform:ghcrToken: is stored in plain text but must be a secret/);
                assert.ok(!out.includes(token), "the token's value was printed");

                // The same token set as a secret passes that check (and the run goes on to the
                // next thing it needs).
                p.writeConfig("dev", { config: { ...FIXTURES.dev.config, ghcrUsername: "fixture-bot" }, secrets: { ...FIXTURES.dev.secrets, ghcrToken: token } });
                const ok = p.pulumi(["preview", "--stack", "dev"]);
                assert.doesNotMatch(`${ok.stdout}\n${ok.stderr}`, /ghcrToken: is stored in plain text/);
                assert.ok(!`${ok.stdout}\n${ok.stderr}`.includes(token), "the token's value was printed");
            } finally {
                p.dispose();
            }
        });
    });

    describe("the program under the real engine, before any provider runs", function () {
        const sdkVersions = (JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;

        for (const stack of ["dev", "staging", "prod"] as const) {
            it(`${stack}: the CLI and the program accept the stack, and the engine asks for exactly the SDKs' plugin versions`, function () {
                if (providersMissing.length === 0) {
                    process.stdout.write("      NOT RUN: every provider plugin is built, so the full previews below cover this\n");
                    this.skip();
                }
                const p = new EngineProject();
                try {
                    p.initStack(stack, FIXTURES[stack]);
                    const { run, digest } = p.preview(stack);
                    assert.ok(digest, `no JSON from preview: ${lastLines(run.stderr || run.stdout)}`);
                    // The program ran past its config validation: the stack and its first
                    // components were planned.
                    assert.ok((digest.steps ?? []).some((s) => s.op === "create" && typeOf(s) === "pulumi:pulumi:Stack"), "the stack itself was not planned");
                    const errors = (digest.diagnostics ?? []).filter((d) => d.severity === "error");
                    assert.ok(errors.length > 0, "preview passed without provider plugins?");
                    for (const e of errors) {
                        const m = /no resource plugin 'pulumi-resource-([a-z]+)' found in the workspace at version v(\S+) or on your \$PATH/.exec(e.message);
                        assert.ok(m, `an error other than a missing plugin: ${e.message}`);
                        assert.ok(providersMissing.some((n) => n.name === `pulumi-resource-${m[1]}`), `asked for ${m[1]}, which the build made`);
                        assert.strictEqual(`v${sdkVersions[`@pulumi/${m[1]}`]}`, `v${m[2]}`, `the engine asked for ${m[1]} at v${m[2]}`);
                    }
                    assert.notStrictEqual(run.code, 0);
                } finally {
                    p.dispose();
                }
            });
        }

        it("accepts a prior state made from a preview (the import the plan tests use)", function () {
            const p = new EngineProject();
            try {
                p.initStack("dev", FIXTURES.dev);
                const { digest } = p.preview("dev");
                const planned = (digest?.steps ?? []).filter((s) => s.op === "create").map((s) => s.urn);
                assert.ok(planned.length > 0, "nothing planned to import");
                const salt = /^encryptionsalt: (.*)$/m.exec(fs.readFileSync(path.join(p.dir, "Pulumi.dev.yaml"), "utf8"))?.[1];
                const file = path.join(p.dir, "prior.json");
                fs.writeFileSync(file, JSON.stringify(deploymentFromPreview(digest!, { salt })));
                const imported = p.pulumi(["stack", "import", "--stack", "dev", "--file", file]);
                assert.strictEqual(imported.code, 0, lastLines(imported.stderr || imported.stdout));
                const exported = p.pulumi(["stack", "export", "--stack", "dev"]);
                assert.strictEqual(exported.code, 0, lastLines(exported.stderr));
                const urns = (JSON.parse(exported.stdout) as { deployment: { resources?: { urn: string }[] } }).deployment.resources?.map((r) => r.urn) ?? [];
                assert.deepStrictEqual(urns.sort(), [...planned].sort());
            } finally {
                p.dispose();
            }
        });
    });

    describe("previews every stack from empty state", function () {
        let github: StandIn;
        before(async function () { github = await startGithubStandIn(); });
        after(async () => github?.close());

        for (const stack of ["dev", "staging", "prod"] as const) {
            it(`${stack}: the engine plans only creates, the guard and the policy rules pass`, function () {
                needProviders(this);
                const p = new EngineProject({ GITHUB_BASE_URL: github.url });
                try {
                    p.initStack(stack, FIXTURES[stack]);
                    const { run, digest } = p.preview(stack);
                    assert.strictEqual(run.code, 0, lastLines(run.stderr || run.stdout, 20));
                    const steps = digest?.steps ?? [];
                    const ops = new Set(steps.map((s) => s.op));
                    assert.deepStrictEqual([...ops].filter((o) => o !== "create" && o !== "same"), [], "an empty stack plans something other than creates");
                    const droplets = steps.filter((s) => typeOf(s) === "digitalocean:index/droplet:Droplet");
                    assert.strictEqual(droplets.length, (FIXTURES[stack].config.serverCount as number | undefined) ?? 1);
                    assert.deepStrictEqual(findDestructiveChanges(digest!), []);
                    const mandatory = evaluate(subjectsOfPreview(digest!), stack).filter((r) => r.enforcementLevel === "mandatory" && r.violations.length > 0);
                    assert.deepStrictEqual(mandatory.map((r) => `${r.rule}: ${r.violations.map((v) => v.message).join("; ")}`), []);
                } finally {
                    p.dispose();
                }
            });
        }
    });

    describe("plans config changes against a prior state", function () {
        let github: StandIn;
        before(async function () { github = await startGithubStandIn(); });
        after(async () => github?.close());

        /** Imports the stack's own empty-state plan as its prior state, changes config, previews. */
        function planChange(ctx: Mocha.Context, stack: "dev" | "staging" | "prod", changes: Record<string, unknown>, extra: string[] = []): PreviewDigest {
            needProviders(ctx);
            const p = new EngineProject({ GITHUB_BASE_URL: github.url });
            try {
                p.initStack(stack, FIXTURES[stack]);
                const first = p.preview(stack);
                assert.strictEqual(first.run.code, 0, lastLines(first.run.stderr || first.run.stdout, 20));
                const salt = /^encryptionsalt: (.*)$/m.exec(fs.readFileSync(path.join(p.dir, `Pulumi.${stack}.yaml`), "utf8"))?.[1];
                const file = path.join(p.dir, "prior.json");
                fs.writeFileSync(file, JSON.stringify(deploymentFromPreview(first.digest!, { salt })));
                const imported = p.pulumi(["stack", "import", "--stack", stack, "--file", file]);
                assert.strictEqual(imported.code, 0, lastLines(imported.stderr));
                p.writeConfig(stack, withChanges(FIXTURES[stack], changes));
                const { run, digest } = p.preview(stack, extra);
                assert.strictEqual(run.code, 0, lastLines(run.stderr || run.stdout, 20));
                return digest!;
            } finally {
                p.dispose();
            }
        }

        const stepsOf = (d: PreviewDigest, type: string) => (d.steps ?? []).filter((s) => typeOf(s) === type);

        it("a new release (imageDigest) replaces the app containers create-before-delete; the guard stays quiet", function () {
            const d = planChange(this, "dev", { imageDigest: DIGEST_B }, ["--show-replacement-steps"]);
            const app = (d.steps ?? []).filter((s) => typeOf(s) === "docker:index/container:Container" && /-app$/.test(s.urn));
            assert.ok(app.length > 0, "no app container step");
            const ops = app.map((s) => s.op);
            // deleteBeforeReplace: false on the app container (infra/app/index.ts): the new one
            // is created first, so the cut-over can switch before the old one goes.
            assert.ok(ops.indexOf("create-replacement") >= 0 && ops.indexOf("create-replacement") < ops.indexOf("delete-replaced"), `ops: ${ops.join(", ")}`);
            assert.deepStrictEqual(stepsOf(d, "digitalocean:index/droplet:Droplet").map((s) => s.op).filter((o) => o !== "same"), []);
            assert.deepStrictEqual(findDestructiveChanges(d), []);
        });

        it("a bigger droplet size resizes the servers in place (update, not replace)", function () {
            // digitalocean/droplet/resource_droplet.go (terraform-provider-digitalocean):
            // `size` is not ForceNew; resourceDigitalOceanDropletUpdate powers off and resizes.
            const d = planChange(this, "staging", { serverSize: "s-2vcpu-4gb" });
            const droplets = stepsOf(d, "digitalocean:index/droplet:Droplet");
            assert.deepStrictEqual(droplets.map((s) => s.op), droplets.map(() => "update"));
            assert.deepStrictEqual(findDestructiveChanges(d), []);
        });

        it("one more server creates one droplet and replaces or deletes none", function () {
            const d = planChange(this, "staging", { serverCount: 3 });
            const droplets = stepsOf(d, "digitalocean:index/droplet:Droplet");
            assert.strictEqual(droplets.filter((s) => s.op === "create").length, 1);
            assert.deepStrictEqual(droplets.filter((s) => s.op !== "create" && s.op !== "same" && s.op !== "update").map((s) => s.op), []);
            assert.deepStrictEqual(findDestructiveChanges(d), []);
        });

        it("a new API hostname updates the DNS record in place", function () {
            // digitalocean/domain/resource_record.go: `name` is Required without ForceNew.
            const d = planChange(this, "staging", { apiHost: "api2.staging" });
            const changed = stepsOf(d, "digitalocean:index/dnsRecord:DnsRecord").filter((s) => s.op !== "same");
            assert.ok(changed.length > 0, "no DNS record change planned");
            assert.deepStrictEqual(changed.map((s) => s.op), changed.map(() => "update"));
            assert.deepStrictEqual(findDestructiveChanges(d), []);
        });

        it("a new pool mode replaces the connection pool (mode is ForceNew) but no guarded resource", function () {
            // digitalocean/database/resource_database_connection_pool.go: `mode` and `size` ForceNew.
            const d = planChange(this, "staging", { dbPoolMode: "session" });
            const pool = stepsOf(d, "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool");
            assert.deepStrictEqual(pool.map((s) => s.op), ["replace"]);
            assert.deepStrictEqual(findDestructiveChanges(d), []);
        });

        it("lifting protection and renaming the prod cluster plans a cluster replacement the guard names", function () {
            const d = planChange(this, "prod", { protectData: false, dbClusterName: "platform-prod-pg-restored" });
            // With protection lifted the engine plans it, and the guard must name it.
            const findings = findDestructiveChanges(d);
            assert.ok(findings.some((f) => f.what === "database cluster" && f.op === "replace"), JSON.stringify(findings));
        });
    });
});
