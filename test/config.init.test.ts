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
    for (const s of ["dev", "staging", "prod"])
        fs.copyFileSync(path.join(from, `Pulumi.${s}.yaml`), path.join(dir, `Pulumi.${s}.yaml`));
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
    const code = await main(argv, {
        out: (s) => {
            out += s;
        },
        err: (s) => {
            err += s;
        },
        input: input === undefined ? undefined : Readable.from([input]),
    });
    return { code, out, err };
}

interface Service {
    image: string;
    port: number;
    health: unknown;
    secrets: string[];
    routes: string[];
    migrationCommand: string[];
    processes: Record<string, { command: string[] }>;
}
const serviceOf = (values: Record<string, string>) =>
    JSON.parse(values["platform:services"]) as Record<string, Service>;
const read = (dir: string) =>
    Object.fromEntries(
        ["dev", "staging", "prod"].map((s) => [s, fs.readFileSync(path.join(dir, `Pulumi.${s}.yaml`), "utf8")]),
    );

describe("init", () => {
    it("--yes with flags: writes the team's values to every stack, keeps comments and other keys, and lists the secrets left", async () => {
        const dir = copyOfFixtures();
        const r = await run([
            "--yes",
            "--work-dir",
            dir,
            "--domain",
            "example.org",
            "--service",
            `app=ghcr.io/example/api:2.0.1 port=8000 health=/up migrate="./manage.py migrate --noinput" worker=celery:"celery -A proj worker" secrets=DJANGO_SECRET_KEY`,
            "--servers",
            "prod=3",
            "--github",
            "example/platform",
        ]);
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
            assert.match(
                fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8"),
                /^# Test fixture/,
                "the file's comments stay",
            );
            // No secret value on the command line (shell history, process list): the CLI prompts.
            assert.match(
                r.out,
                new RegExp(`pulumi config set --secret --path 'appSecrets\\.DJANGO_SECRET_KEY' --stack ${stack} `),
            );
            assert.match(r.out, new RegExp(`pulumi config set --secret tailscaleApiKey --stack ${stack} `));
            assert.doesNotMatch(r.out, /config set --secret \S+ <|config set --secret --path '[^']+' </);
        }
        assert.strictEqual(readStackConfig("prod", dir).values["platform:serverCount"], "3");
        assert.strictEqual(
            readStackConfig("staging", dir).values["platform:vpcIpRange"],
            readStackConfig("staging", FIXTURES.sample).values["platform:vpcIpRange"],
        );
    });

    it("lists the Spaces keys for a stack that dumps its database, and only for that stack", async () => {
        const dir = copyOfFixtures(FIXTURES.other);
        fs.appendFileSync(
            path.join(dir, "Pulumi.prod.yaml"),
            "  platform:dbDump:\n    bucket: northwind-prod-dumps\n    region: ams3\n    retentionDays: 14\n",
        );
        const r = await run(["--yes", "--work-dir", dir, "--domain", "example.org"]);
        assert.strictEqual(r.code, 0, r.err);
        for (const key of ["spacesAccessKeyId", "spacesSecretKey"]) {
            assert.match(r.out, new RegExp(`pulumi config set --secret ${key} --stack prod .*dbDump is set`));
            assert.doesNotMatch(r.out, new RegExp(`--secret ${key} --stack (dev|staging)`));
        }
    });

    it("is idempotent: the same answers again change nothing", async () => {
        const dir = copyOfFixtures();
        const args = [
            "--yes",
            "--work-dir",
            dir,
            "--domain",
            "example.org",
            "--service",
            "app port=8000",
            "--servers",
            "prod=3",
        ];
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
        assert.match(
            r.out,
            new RegExp(
                `DNS zone \\(a DigitalOcean domain\\) \\[${before["platform:domain"].replace(/\./g, "\\.")}\\]: `,
            ),
        );
        const v = readStackConfig("prod", dir).values;
        assert.deepStrictEqual(
            [v["platform:domain"], serviceOf(v).app.port, serviceOf(v).app.health, v["platform:ghcrUsername"]],
            ["example.net", 9000, { path: "/status" }, ""],
        );
        assert.strictEqual(serviceOf(v).app.image, serviceOf(before).app.image);
        assert.deepStrictEqual(serviceOf(v).app.migrationCommand, serviceOf(before).app.migrationCommand);
    });

    it("writes nothing when the result would not pass the config check, and says which key and why", async () => {
        const dir = copyOfFixtures();
        const before = read(dir);
        for (const [args, expect] of [
            [["--domain", "localhost"], /^error: platform:domain: "localhost" is not valid; expected a domain name/],
            [
                ["--service", "app port=80"],
                /^error: platform:services\.app\.port: 80 is not valid; expected a port other than 80/,
            ],
            [
                ["--servers", "staging=1"],
                /^error: platform:serverCount: staging has 1 and prod \d+; expected the same edge kind/,
            ],
            [
                ["--service", "app secrets=DATABASE_URL"],
                /^error: platform:services\.app\.secrets: "DATABASE_URL" is not valid/,
            ],
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

    it("keeps CODEOWNERS naming prod's approvers, as doctor expects", async () => {
        const dir = copyOfFixtures();
        fs.mkdirSync(path.join(dir, ".github"));
        fs.writeFileSync(
            path.join(dir, ".github", "CODEOWNERS"),
            "# who reviews what reaches prod\n/.github/  @maria-acme @devon-acme\n/infra/    @maria-acme\n",
        );
        const r = await run([
            "--yes",
            "--work-dir",
            dir,
            "--reviewers",
            "alice-nw,bob-nw",
            "--github",
            "northwind/platform",
        ]);
        assert.strictEqual(r.code, 0, r.err);
        assert.strictEqual(
            fs.readFileSync(path.join(dir, ".github", "CODEOWNERS"), "utf8"),
            "# who reviews what reaches prod\n/.github/  @alice-nw @bob-nw\n/infra/    @alice-nw @bob-nw\n",
        );
        assert.match(r.out, /\.github\/CODEOWNERS/);
    });

    it("creates missing stack files from scratch", async () => {
        const dir = tmpdir("init-empty-");
        const r = await run([
            "--yes",
            "--work-dir",
            dir,
            "--domain",
            "example.org",
            "--service",
            "app=ghcr.io/example/api:0.1.0 health=/healthz",
            "--github",
            "example/platform",
            "--reviewers",
            "alice",
            "--ssh-key",
            "123",
            "--alert-email",
            "ops@example.org",
        ]);
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(fs.readdirSync(dir).sort(), [
            "Pulumi.dev.yaml",
            "Pulumi.prod.yaml",
            "Pulumi.staging.yaml",
        ]);
        assert.strictEqual(readStackConfig("dev", dir).values["platform:frontendHost"], "dev");
    });

    it("splits commands as a shell would for plain words and quotes, also inside a word", () => {
        assert.deepStrictEqual(splitCommand(`bin/mailer --queue "mail out" 'a b'`), [
            "bin/mailer",
            "--queue",
            "mail out",
            "a b",
        ]);
        assert.deepStrictEqual(splitCommand(""), []);
        // A quote inside a word, as a --service option's value: worker=jobs:"bundle exec sidekiq" is one word.
        assert.deepStrictEqual(splitCommand(`api worker=jobs:"bundle exec sidekiq" migrate=''`), [
            "api",
            "worker=jobs:bundle exec sidekiq",
            "migrate=",
        ]);
        assert.throws(() => splitCommand(`a "b`), /a " is not closed/);
    });
});

describe("init on a team of several services (duo: web and api)", () => {
    const names = (dir: string, stack: string) => Object.keys(serviceOf(readStackConfig(stack, dir).values));
    const duoRaw = (stack: string) =>
        JSON.parse(readStackConfig(stack, FIXTURES.duo).values["platform:services"]) as Record<
            string,
            Record<string, unknown>
        >;

    it("adds, renames, changes and removes services by --service, keeping every other field and the file's comments", async () => {
        const dir = copyOfFixtures(FIXTURES.duo);
        const r = await run([
            "--yes",
            "--work-dir",
            dir,
            "--service",
            "web name=site",
            "--service",
            "api port=8080 health=/healthz",
            "--service",
            "admin=ghcr.io/duo-store/admin:0.3.0 health=none route=front:/admin",
        ]);
        assert.strictEqual(r.code, 0, r.err);
        for (const stack of ["dev", "staging", "prod"]) {
            const v = readStackConfig(stack, dir).values;
            const svc = JSON.parse(v["platform:services"]) as Record<string, Record<string, unknown>>;
            const was = duoRaw(stack);
            assert.deepStrictEqual(Object.keys(svc), ["api", "site", "admin"], stack);
            assert.deepStrictEqual(svc.site, was.web, `${stack}: web renamed to site, nothing else changed`);
            assert.deepStrictEqual(
                svc.api,
                { ...was.api, port: 8080, health: { path: "/healthz" } },
                `${stack}: api's env, worker, memory and routes stay`,
            );
            const front = v["platform:frontendHost"];
            assert.deepStrictEqual(svc.admin, {
                image: "ghcr.io/duo-store/admin",
                tag: "0.3.0",
                port: 3000,
                health: "none",
                routes: [`${front}.duo-store.example/admin`],
            });
            assert.match(
                fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8"),
                /^# A fixture team the tests own/,
                "the file's comments stay",
            );
        }
        passesConfigCheck(dir);

        const removed = await run(["--yes", "--work-dir", dir, "--service", "-admin"]);
        assert.strictEqual(removed.code, 0, removed.err);
        for (const stack of ["dev", "staging", "prod"]) assert.deepStrictEqual(names(dir, stack), ["api", "site"]);
        passesConfigCheck(dir);

        // The same changes again change nothing: the rename and the removal are already done.
        const first = read(dir);
        const again = await run([
            "--yes",
            "--work-dir",
            dir,
            "--service",
            "web name=site",
            "--service",
            "api port=8080 health=/healthz",
            "--service",
            "-admin",
        ]);
        assert.strictEqual(again.code, 0, again.err);
        assert.deepStrictEqual(read(dir), first);
    });

    it("asks per service: keep, change or remove, then whether to add another", async () => {
        const dir = copyOfFixtures(FIXTURES.duo);
        // domain, frontend host, registry user kept; api changed, web renamed, one service added, then no more.
        const r = await run(
            ["--work-dir", dir],
            "\n\n\nchange\nport=8080 health=/healthz\nchange\nname=site\nadmin=ghcr.io/duo-store/admin:0.3.0 health=none route=front:/admin\n\n",
        );
        assert.strictEqual(r.code, 0, r.err);
        assert.match(r.out, /service api: keep, change or remove\? \[keep\]: /);
        assert.match(r.out, /add another service\?/);
        for (const stack of ["dev", "staging", "prod"]) {
            const svc = serviceOf(readStackConfig(stack, dir).values);
            assert.deepStrictEqual(Object.keys(svc), ["api", "site", "admin"], stack);
            assert.deepStrictEqual([svc.api.port, svc.api.health], [8080, { path: "/healthz" }]);
        }
        passesConfigCheck(dir);

        // A second run removes the added one; an answer that is not valid is asked again.
        const again = await run(["--work-dir", dir], "\n\n\n\n\nmaybe\nremove\n\n");
        assert.strictEqual(again.code, 0, again.err);
        assert.match(again.out, /error: "maybe" is not an answer here; expected keep \(Enter\), change or remove/);
        for (const stack of ["dev", "staging", "prod"]) assert.deepStrictEqual(names(dir, stack), ["api", "site"]);
        passesConfigCheck(dir);
    });

    it("refuses the one-service flags and a repeated flag with one line, and deletes nothing", async () => {
        const dir = copyOfFixtures(FIXTURES.duo);
        const before = read(dir);
        for (const [args, expect] of [
            [
                ["--image", "ghcr.io/duo-store/backend"],
                /^error: --image is retired: services are set with --service, e\.g\. --service <name>=<image>:<tag>/,
            ],
            [["--port", "8080"], /^error: --port is retired: .*--service "<name> port=<n>"/],
            [
                ["--domain", "a.example", "--domain", "b.example"],
                /^error: --domain given twice \("a\.example" and "b\.example"\); expected it once/,
            ],
            [["--servers", "prod=3", "--servers", "prod=4"], /^error: --servers prod= given twice/],
            [
                ["--service", "api port=http"],
                /^error: --service "api port=http": port=http is not valid; expected port=<number>, e\.g\. port=8080/,
            ],
            [
                ["--service", "api colour=blue"],
                /^error: --service "api colour=blue": colour=blue is not valid; expected an option among name, image, port/,
            ],
            [
                ["--service", "api route=/v1"],
                /^error: --service "api route=\/v1": route=\/v1 is not valid; expected route=front:<prefix> or route=api:<prefix>/,
            ],
            [
                ["--service", "web name=api"],
                /^error: --service "web name=api": Pulumi\.dev\.yaml already has a service api/,
            ],
            [
                ["--service", "admin port=8081"],
                /^error: --service "admin port=8081": Pulumi\.dev\.yaml has no service admin; expected a new service's image, tag and health/,
            ],
            [
                ["--service", "admin=ghcr.io/duo-store/admin:1 health=none"],
                /^error: --service .*: a new service next to others needs its routes/,
            ],
            [
                ["--service", "-web", "--service", "api route=front:/"],
                /^error: platform:services: .*expected a service with a health path that api\.dev\.duo-store\.example routes to it/,
            ],
        ] as [string[], RegExp][]) {
            const r = await run(["--yes", "--work-dir", dir, ...args]);
            assert.strictEqual(r.code, 2, args.join(" "));
            assert.match(r.err, expect);
            assert.strictEqual(r.err.trim().split("\n").length, 1, r.err);
        }
        assert.deepStrictEqual(read(dir), before);
    });
});

describe("init with Enter on every question", () => {
    for (const [label, from] of [
        ["a team of two services (duo)", FIXTURES.duo],
        ["this repository's own stack files", ROOT],
    ]) {
        it(`keeps ${label} as it is and exits 0`, async () => {
            const dir = copyOfFixtures(from);
            const before = read(dir);
            const r = await run(["--work-dir", dir], "\n".repeat(40));
            assert.strictEqual(r.code, 0, r.err);
            assert.deepStrictEqual(read(dir), before);
            passesConfigCheck(dir);
        });
    }

    it("warns about every value still the sample team's, with the flag that sets it, and stops when it is set", async () => {
        // The fixture team A holds the sample team's values (acme-shop).
        const dir = copyOfFixtures();
        const r = await run(["--work-dir", dir], "\n".repeat(40));
        assert.strictEqual(r.code, 0, r.err);
        const warnings = r.err.trim().split("\n");
        assert.ok(
            warnings.includes(
                "warning: Pulumi.prod.yaml: platform:alertEmails still holds the sample's value ops@acme-shop.com — set yours with --alert-email",
            ),
            r.err,
        );
        for (const w of [
            /platform:domain .* acme-shop\.com — set yours with --domain$/,
            /platform:services\.app\.image .* ghcr\.io\/acme-shop\/shop — set yours with --service app=<image>:<tag>$/,
            /platform:githubReviewers .* maria-acme — set yours with --reviewers$/,
            /platform:slackChannel .* #shop-alerts — set yours with --slack-channel$/,
        ]) {
            assert.ok(
                warnings.some((line) => w.test(line)),
                `${w}\n${r.err}`,
            );
        }
        assert.ok(
            warnings.every((line) => line.startsWith("warning: ")),
            r.err,
        );

        const json = await run([
            "--yes",
            "--json",
            "--work-dir",
            dir,
            "--domain",
            "example.org",
            "--alert-email",
            "ops@example.org",
            "--acme-email",
            "ops@example.org",
            "--slack-channel",
            "#ops",
            "--registry-user",
            "example-bot",
            "--github",
            "example/platform",
            "--reviewers",
            "alice",
            "--ssh-key",
            "123",
            "--service",
            "app=ghcr.io/example/shop:1.0.0",
        ]);
        assert.strictEqual(json.code, 0, json.err);
        assert.deepStrictEqual((JSON.parse(json.out) as { warnings: string[] }).warnings, []);
        const left = await run(["--yes", "--json", "--work-dir", dir, "--reviewers", "maria-acme"]);
        assert.deepStrictEqual((JSON.parse(left.out) as { warnings: string[] }).warnings, [
            "Pulumi.prod.yaml: platform:githubReviewers still holds the sample's value maria-acme — set yours with --reviewers",
        ]);
    });
});
