import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { compareServices, main } from "../tools/diff";
import { GitHubReader } from "../tools/lib/github";
import { FIXTURES, tmpdir } from "./helpers";

const FIXTURE = path.join(__dirname, "fixtures", "lifecycle", "Pulumi.prod.yaml");

async function run(argv: string[], github?: GitHubReader): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(
        argv,
        {
            out: (s) => {
                out += s;
            },
            err: (s) => {
                err += s;
            },
        },
        github,
    );
    return { code, out, err };
}

describe("offline preview diff for pull requests", function () {
    this.timeout(60_000);

    it("shows a pool change as a new pool first and the app moving to it, and lets it through", async () => {
        const dir = tmpdir("diff-");
        assert.strictEqual(
            (
                await run([
                    "--stack",
                    "prod",
                    "--work-dir",
                    path.dirname(FIXTURE),
                    "--record",
                    path.join(dir, "base.json"),
                ])
            ).code,
            0,
        );
        const recorded = fs.readFileSync(path.join(dir, "base.json"), "utf8");
        assert.doesNotMatch(recorded, /offline-secret_key_base|postgresql:\/\//, "no secret text in the recording");
        const head = path.join(dir, "Pulumi.prod.yaml");
        fs.writeFileSync(head, fs.readFileSync(FIXTURE, "utf8").replace("dbPoolSize: 15", "dbPoolSize: 20"));
        const r = await run([
            "--stack",
            "prod",
            "--work-dir",
            dir,
            "--base",
            path.join(dir, "base.json"),
            "--markdown",
        ]);
        assert.strictEqual(r.code, 0, r.out + r.err);
        assert.match(r.out, /\| replace \(new first\) \| connection pool `prod-pool` \| name, size \|/);
        assert.match(r.out, /\| replace \(new first\) \| container `prod-web-1-app-app` \| envs \|/);
        assert.doesNotMatch(r.out, /refused/);
    });

    it("refuses a change that rebuilds every server, and says so", async () => {
        const dir = tmpdir("diff-");
        await run(["--stack", "prod", "--work-dir", path.dirname(FIXTURE), "--record", path.join(dir, "base.json")]);
        const head = path.join(dir, "Pulumi.prod.yaml");
        fs.writeFileSync(
            head,
            fs
                .readFileSync(FIXTURE, "utf8")
                .replace("serverCount: 3", "serverCount: 3\n  platform:serverImage: debian-13-x64"),
        );
        const r = await run(["--stack", "prod", "--work-dir", dir, "--base", path.join(dir, "base.json"), "--json"]);
        assert.strictEqual(r.code, 1);
        const json = JSON.parse(r.out) as {
            refused: boolean;
            guard: { what: string; op: string; blocking: boolean }[];
        };
        assert.ok(json.refused);
        assert.strictEqual(json.guard.filter((f) => f.what === "server" && f.op === "replace" && f.blocking).length, 3);
    });

    it("against a stack never deployed, refuses nothing and says the first deploy creates it all; once deployed, refuses", async () => {
        const dir = tmpdir("diff-");
        await run(["--stack", "prod", "--work-dir", path.dirname(FIXTURE), "--record", path.join(dir, "base.json")]);
        // A team adapting the sample: another region moves every server, the database and the VPC.
        fs.writeFileSync(
            path.join(dir, "Pulumi.prod.yaml"),
            fs.readFileSync(FIXTURE, "utf8").replace(/platform:region: \S+/, "platform:region: ams3"),
        );
        const deployments = (list: unknown[]) => {
            const asked: string[] = [];
            return {
                asked,
                get: (p: string) => {
                    asked.push(p);
                    return Promise.resolve(list);
                },
            };
        };
        const argv = [
            "--stack",
            "prod",
            "--work-dir",
            dir,
            "--base",
            path.join(dir, "base.json"),
            "--repo",
            "team/platform",
        ];
        const never = deployments([]);
        const first = await run(argv, never);
        assert.deepStrictEqual(never.asked, ["repos/team/platform/deployments?environment=prod&per_page=1"]);
        assert.strictEqual(first.code, 0, first.out + first.err);
        assert.match(first.out, /prod was never deployed by a workflow .*: the first deploy creates all \d+ resources/);
        assert.doesNotMatch(first.out, /REFUSED|^  (replace|delete)/m);
        const later = await run(argv, deployments([{ id: 1, environment: "prod" }]));
        assert.strictEqual(later.code, 1, later.out);
        assert.match(later.out, /REFUSED/);
        const down = await run(argv, {
            get: () => Promise.reject(new Error("GitHub answered 403 for GET /repos/team/platform/deployments")),
        });
        assert.strictEqual(down.code, 2);
        assert.match(down.err, /cannot tell whether prod was ever deployed: GitHub answered 403/);
    });

    describe("which services change, and from which tag and digest to which", () => {
        const D = (c: string) => `sha256:${c.repeat(64)}`;
        /** Records `stack` of a fixture team as the base, then writes the head's stack file edited by `edit`. */
        async function baseAndHead(team: string, stack: string, edit: (text: string) => string) {
            const dir = tmpdir("diff-services-");
            const base = path.join(dir, "base.json");
            const r = await run(["--stack", stack, "--work-dir", team, "--record", base]);
            assert.strictEqual(r.code, 0, r.err);
            fs.writeFileSync(
                path.join(dir, `Pulumi.${stack}.yaml`),
                edit(fs.readFileSync(path.join(team, `Pulumi.${stack}.yaml`), "utf8")),
            );
            return { dir, base };
        }

        it("a services team: the bumped service from its tag to the new one, a newly pinned digest, and the rest unchanged", async () => {
            const { dir, base } = await baseAndHead(FIXTURES.duo, "staging", (t) =>
                t.replace("      tag: 1.4.2\n", "      tag: 1.5.0\n"),
            );
            const md = await run(["--stack", "staging", "--work-dir", dir, "--base", base, "--markdown"]);
            assert.strictEqual(md.code, 0, md.out + md.err);
            assert.match(md.out, /^\| api \| changed \| 1\.4\.2 \| 1\.5\.0 \|$/m);
            assert.match(md.out, /^\| web \| unchanged \| 2\.3\.0 \| 2\.3\.0 \|$/m);

            fs.writeFileSync(
                path.join(dir, "Pulumi.staging.yaml"),
                fs
                    .readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8")
                    .replace(
                        "      tag: 2.3.0\n",
                        `      tag: 2.3.0\n      digest: ${D("e")}\n      pin: 2.3.0@${D("e")}\n`,
                    ),
            );
            const json = JSON.parse(
                (await run(["--stack", "staging", "--work-dir", dir, "--base", base, "--json"])).out,
            ) as { services: unknown };
            assert.deepStrictEqual(json.services, [
                { name: "api", change: "changed", base: { tag: "1.4.2" }, head: { tag: "1.5.0" } },
                { name: "web", change: "changed", base: { tag: "2.3.0" }, head: { tag: "2.3.0", digest: D("e") } },
            ]);
            const text = (await run(["--stack", "staging", "--work-dir", dir, "--base", base])).out;
            assert.match(text, /^ {2}service web: 2\.3\.0 -> 2\.3\.0 @ sha256:eeeeeeeeeeee$/m);
        });

        it("a one-service team: its one service, app", async () => {
            const { dir, base } = await baseAndHead(FIXTURES.sample, "staging", (t) =>
                t.replace(/^ {6}tag: .*$/m, "      tag: 9.9.9"),
            );
            const r = await run(["--stack", "staging", "--work-dir", dir, "--base", base]);
            assert.strictEqual(r.code, 0, r.out + r.err);
            assert.match(r.out, /^ {2}service app: \S+ -> 9\.9\.9$/m);
            assert.strictEqual((r.out.match(/^ {2}service /gm) ?? []).length, 1);
        });

        it("a base recorded before recordings named their services: tags from its release output, no placeholder digest", async () => {
            const { dir, base } = await baseAndHead(FIXTURES.duo, "staging", (t) => t);
            const old = JSON.parse(fs.readFileSync(base, "utf8")) as Record<string, unknown>;
            delete old.services;
            fs.writeFileSync(base, JSON.stringify(old));
            const json = JSON.parse(
                (await run(["--stack", "staging", "--work-dir", dir, "--base", base, "--json"])).out,
            ) as { services: { name: string; change: string }[] };
            assert.deepStrictEqual(
                json.services.map((s) => `${s.name} ${s.change}`),
                ["api unchanged", "web unchanged"],
            );
        });

        it("new and removed services", () => {
            assert.deepStrictEqual(
                compareServices(
                    { api: { tag: "1" }, old: { tag: "2" } },
                    { api: { tag: "1" }, web: { tag: "3", digest: D("a") } },
                ),
                [
                    { name: "api", change: "unchanged", base: { tag: "1" }, head: { tag: "1" } },
                    { name: "old", change: "removed", base: { tag: "2" } },
                    { name: "web", change: "new", head: { tag: "3", digest: D("a") } },
                ],
            );
        });
    });

    it("one line for a missing or foreign base file", async () => {
        const r = await run(["--stack", "prod", "--work-dir", path.dirname(FIXTURE), "--base", "/nonexistent.json"]);
        assert.strictEqual(r.code, 2);
        assert.match(r.err, /^error: cannot read \/nonexistent.json/);
    });
});
