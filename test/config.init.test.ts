/** `npm run init`: flags or questions, idempotent, validated before writing, the secrets left to set. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { parseSettings } from "../infra/config";
import { main, splitCommand } from "../tools/init";
import { configSource, offlineSecrets, readStackConfig, ROOT } from "../tools/lib/stacks";
import { FIXTURES, tmpdir } from "./helpers";

/** A copy of a fixture team's stack files (or of this repository's own), to edit. */
function copyOfFixtures(from: string = FIXTURES.sample): string {
    const dir = tmpdir("init-");
    for (const s of ["dev", "staging", "prod"]) fs.copyFileSync(path.join(from, `Pulumi.${s}.yaml`), path.join(dir, `Pulumi.${s}.yaml`));
    return dir;
}

/** The program's own config check on every stack in `dir` (secrets as offline placeholders), as doctor --offline runs it. */
function passesConfigCheck(dir: string): void {
    for (const stack of ["dev", "staging", "prod"]) {
        const cfg = readStackConfig(stack, dir);
        const ph = offlineSecrets(cfg.values);
        parseSettings(configSource({ ...cfg.values, ...ph }, [...cfg.secretKeys, ...Object.keys(ph)]), stack);
    }
}

async function run(argv: string[], input?: string) {
    let out = "";
    let err = "";
    const code = await main(argv, { out: (s) => { out += s; }, err: (s) => { err += s; }, input: input === undefined ? undefined : Readable.from([input]) });
    return { code, out, err };
}

interface Service { image: string; port: number; health: unknown; secrets: string[]; routes: string[]; migrationCommand: string[]; processes: Record<string, { command: string[] }> }
const serviceOf = (values: Record<string, string>) => JSON.parse(values["platform:services"]) as Record<string, Service>;
const read = (dir: string) => Object.fromEntries(["dev", "staging", "prod"].map((s) => [s, fs.readFileSync(path.join(dir, `Pulumi.${s}.yaml`), "utf8")]));

describe("init", () => {
    it("--yes with flags: writes the team's values to every stack, keeps comments and other keys, and lists the secrets left", async () => {
        const dir = copyOfFixtures();
        const r = await run(["--yes", "--work-dir", dir, "--domain", "example.org",
            "--service", `app=ghcr.io/example/api:2.0.1 port=8000 health=/up migrate="./manage.py migrate --noinput" worker=celery:"celery -A proj worker" secrets=DJANGO_SECRET_KEY`,
            "--servers", "prod=3", "--github", "example/platform"]);
        assert.strictEqual(r.code, 0, r.err);
        for (const stack of ["dev", "staging", "prod"]) {
            const v = readStackConfig(stack, dir).values;
            assert.strictEqual(v["platform:domain"], "example.org");
            assert.strictEqual(v["platform:healthPath"], undefined, "the health path is the service's own");
            // A one-service app: one entry in services, routed on both hosts, checked on the health path.
            const { app, ...others } = serviceOf(v);
            assert.deepStrictEqual(others, {});
            assert.deepStrictEqual([app.image, app.port, app.health], ["ghcr.io/example/api", 8000, { path: "/up" }]);
            assert.deepStrictEqual(app.migrationCommand, ["./manage.py", "migrate", "--noinput"]);
            assert.deepStrictEqual(app.processes.celery.command, ["celery", "-A", "proj", "worker"]);
            assert.deepStrictEqual(app.secrets, ["DJANGO_SECRET_KEY"]);
            assert.strictEqual(app.routes.length, 2);
            assert.strictEqual(v["platform:githubOwner"], "example");
            assert.match(fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8"), /^# Test fixture/, "the file's comments stay");
            // No secret value on the command line (shell history, process list): the CLI prompts.
            assert.match(r.out, new RegExp(`pulumi config set --secret --path 'appSecrets\\.DJANGO_SECRET_KEY' --stack ${stack} `));
            assert.match(r.out, new RegExp(`pulumi config set --secret tailscaleApiKey --stack ${stack} `));
            assert.doesNotMatch(r.out, /config set --secret \S+ <|config set --secret --path '[^']+' </);
        }
        assert.strictEqual(readStackConfig("prod", dir).values["platform:serverCount"], "3");
        assert.strictEqual(readStackConfig("staging", dir).values["platform:vpcIpRange"], readStackConfig("staging", FIXTURES.sample).values["platform:vpcIpRange"]);
    });

    it("is idempotent: the same answers again change nothing", async () => {
        const dir = copyOfFixtures();
        const args = ["--yes", "--work-dir", dir, "--domain", "example.org", "--service", "app port=8000", "--servers", "prod=3"];
        assert.strictEqual((await run(args)).code, 0);
        const first = read(dir);
        const again = await run(args);
        assert.strictEqual(again.code, 0);
        assert.match(again.out, /stack files already up to date/);
        assert.deepStrictEqual(read(dir), first);
    });

    it("asks each question with the current value as default when not given --yes", async () => {
        const dir = copyOfFixtures();
        const before = readStackConfig("prod", dir).values;
        // domain, frontend host, registry user, then the service app changed: the rest keep their defaults.
        const r = await run(["--work-dir", dir], "example.net\n\n-\nchange\nport=9000 health=/status\n");
        assert.strictEqual(r.code, 0, r.err);
        assert.match(r.out, new RegExp(`DNS zone \\(a DigitalOcean domain\\) \\[${before["platform:domain"].replace(/\./g, "\\.")}\\]: `));
        const v = readStackConfig("prod", dir).values;
        assert.deepStrictEqual([v["platform:domain"], serviceOf(v).app.port, serviceOf(v).app.health, v["platform:ghcrUsername"]], ["example.net", 9000, { path: "/status" }, ""]);
        assert.strictEqual(serviceOf(v).app.image, serviceOf(before).app.image);
        assert.deepStrictEqual(serviceOf(v).app.migrationCommand, serviceOf(before).app.migrationCommand);
    });

    it("writes nothing when the result would not pass the config check, and says which key and why", async () => {
        const dir = copyOfFixtures();
        const before = read(dir);
        for (const [args, expect] of [
            [["--domain", "localhost"], /^error: platform:domain: "localhost" is not valid; expected a domain name/],
            [["--service", "app port=80"], /^error: platform:services\.app\.port: 80 is not valid; expected a port other than 80/],
            [["--servers", "staging=1"], /^error: platform:serverCount: staging has 1 and prod \d+; expected the same edge kind/],
            [["--service", "app secrets=DATABASE_URL"], /^error: platform:services\.app\.secrets: "DATABASE_URL" is not valid/],
            [["--github", "nope"], /^error: --github nope: expected <owner>\/<repository>/],
            [["--servers", "qa=2"], /^error: --servers qa=2: expected <stack>=<value>/],
        ] as [string[], RegExp][]) {
            const r = await run(["--yes", "--work-dir", dir, ...args]);
            assert.strictEqual(r.code, 2, args.join(" "));
            assert.match(r.err, expect);
            assert.strictEqual(r.err.trim().split("\n").length, 1);
        }
        assert.deepStrictEqual(read(dir), before);
    });

    it("creates missing stack files from scratch", async () => {
        const dir = tmpdir("init-empty-");
        const r = await run(["--yes", "--work-dir", dir, "--domain", "example.org", "--service", "app=ghcr.io/example/api:0.1.0 health=/healthz", "--github", "example/platform",
            "--reviewers", "alice", "--ssh-key", "123", "--alert-email", "ops@example.org"]);
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"]);
        assert.strictEqual(readStackConfig("dev", dir).values["platform:frontendHost"], "dev");
    });

    it("splits commands as a shell would for plain words and quotes", () => {
        assert.deepStrictEqual(splitCommand(`bin/mailer --queue "mail out" 'a b'`), ["bin/mailer", "--queue", "mail out", "a b"]);
        assert.deepStrictEqual(splitCommand(""), []);
    });
});
