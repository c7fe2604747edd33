/** The deploy workflow's release selection (tools/select-release.ts): its decisions, then the CLI the workflow calls. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    Backend,
    checkInputs,
    committedTags,
    ImageWrite,
    Inputs,
    main,
    orderOf,
    planWrites,
    promotionOverRollback,
    recordText,
    requestedSet,
    runningCommitOf,
} from "../tools/select-release";
import { Release, ReleaseRecord } from "../tools/lib/releases";
import { ConfiguredImage } from "../tools/lib/deploy";
import { tmpdir } from "./helpers";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const SHA = (c: string) => c.repeat(40);
const INPUTS: Inputs = {
    stack: "staging",
    mode: "up",
    commit: SHA("a"),
    services: "",
    service: "",
    requireRelease: false,
};

describe("select-release: the deploy's inputs", () => {
    it("takes tags by service, separated by spaces or commas, pinned or not", () => {
        assert.deepStrictEqual(checkInputs({ ...INPUTS, services: `api=1.5.0, web=2.4.1@${D("b")}` }), [
            { name: "api", tag: "1.5.0", digest: undefined },
            { name: "web", tag: "2.4.1", digest: D("b") },
        ]);
        assert.deepStrictEqual(checkInputs(INPUTS), [], "a plain deploy names nothing");
    });

    it("refuses a stack, mode, commit or service name it does not know, each in one line", () => {
        assert.throws(
            () => checkInputs({ ...INPUTS, stack: "qa" }),
            /^Error: stack must be one of dev, staging, prod, got 'qa'$/,
        );
        assert.throws(() => checkInputs({ ...INPUTS, stack: "" }), /got ''$/);
        assert.throws(() => checkInputs({ ...INPUTS, mode: "destroy" }), /mode must be up or rollback, got 'destroy'/);
        assert.throws(
            () => checkInputs({ ...INPUTS, commit: "" }),
            /commit '' is not a full SHA \(an empty staging output must stop the promotion\)/,
        );
        assert.throws(() => checkInputs({ ...INPUTS, commit: "main" }), /is not a full SHA/);
        assert.throws(
            () => checkInputs({ ...INPUTS, mode: "rollback", service: "Api" }),
            /service 'Api' is not a service name/,
        );
        assert.doesNotThrow(() => checkInputs({ ...INPUTS, stack: "prod", mode: "rollback", service: "api" }));
    });

    it("refuses a malformed entry, a name given twice and a stray character, without echoing the character", () => {
        assert.throws(
            () => requestedSet("api"),
            /^Error: services: "api" is not <service>=<tag> or <service>=<tag>@sha256:<64 hex> \(e\.g\. api=1\.5\.0 web=2\.4\.1\)$/,
        );
        assert.throws(() => requestedSet("api=1 api=2"), /services: api is named twice/);
        assert.throws(() => requestedSet("api=1@sha256:abc"), /is not <service>=<tag>/);
        assert.throws(
            () => requestedSet("api=1.5.0\n::set-output name=x::y"),
            (e: Error) =>
                e.message.startsWith("services 'api=1.5.0?::set-output name=x::y' has a character") &&
                !e.message.includes("\n"),
        );
        assert.throws(
            () => requestedSet("api=1;rm"),
            /'api=1\?rm' has a character that is not in a service name, tag or digest/,
        );
    });

    it("a promotion needs every service's digest: the set staging ran passes, a bare tag or an empty set does not", () => {
        const promote = (services: string) => checkInputs({ ...INPUTS, stack: "prod", services, requireRelease: true });
        assert.strictEqual(promote(`api=1.5.0@${D("a")} web=2.4.1@${D("b")}`).length, 2);
        assert.throws(
            () => promote(`api=1.5.0@${D("a")} web=2.4.1`),
            /promotion needs the digest staging ran for each service; got 'web=2\.4\.1'/,
        );
        assert.throws(() => promote(""), /promotion needs the release set staging ran/);
    });
});

describe("select-release: never an older commit over a newer one", () => {
    const base = {
        stack: "staging",
        commit: SHA("a"),
        running: SHA("b"),
        containsCommit: true,
        named: [],
        requireRelease: false,
    };

    it("reads the running commit from the newest update whose message ends with one", () => {
        assert.strictEqual(
            runningCommitOf([
                "",
                `Deploy on merge #3 by maria at ${SHA("b")}`,
                `Deploy on merge #2 by maria at ${SHA("c")}`,
            ]),
            SHA("b"),
        );
        assert.strictEqual(runningCommitOf(["manual up", `at ${SHA("c")} and more`]), "");
    });

    it("skips a commit the stack already runs a descendant of, and deploys otherwise", () => {
        assert.deepStrictEqual(orderOf(base), {
            running: SHA("b"),
            skip: true,
            notice: `staging already runs ${SHA("b")}, which contains ${SHA("a")}: not deploying the older commit over it`,
        });
        assert.strictEqual(
            orderOf({ ...base, containsCommit: false }).skip,
            false,
            "the running commit is older or unrelated",
        );
        assert.strictEqual(orderOf({ ...base, running: SHA("a") }).skip, false, "the same commit again");
        assert.deepStrictEqual(
            orderOf({ ...base, running: "" }),
            { running: "", skip: false },
            "a stack never deployed",
        );
    });

    it("a promotion over a newer commit is skipped; a release named by a dispatch is never dropped silently", () => {
        const named = [{ name: "api", tag: "1.5.0" }];
        assert.strictEqual(orderOf({ ...base, named, requireRelease: true }).skip, true);
        assert.throws(
            () => orderOf({ ...base, named }),
            (e: Error & { code?: number }) =>
                e.code === 1 &&
                e.message ===
                    `staging already runs ${SHA("b")}, newer than ${SHA("a")}: api=1.5.0 was not deployed; dispatch it again`,
        );
    });
});

describe("select-release: which image each service deploys", () => {
    const declared: Record<string, ConfiguredImage> = {
        api: { repository: "ghcr.io/acme/api", tag: "1.4.0" },
        web: { tag: "2.3.0" },
    };
    const record: ReleaseRecord = {
        services: { api: { tag: "1.4.2", digest: D("3") }, web: { tag: "2.4.0", digest: D("7") } },
    };
    const plan = (o: Partial<Parameters<typeof planWrites>[0]> = {}) =>
        planWrites({ stack: "staging", record, declared, requested: [], ...o });

    it("each service keeps the release it runs, with its digest pinned as that pair", () => {
        assert.deepStrictEqual(plan().writes, [
            { service: "api", tag: "1.4.2", digest: D("3"), pin: `1.4.2@${D("3")}` },
            { service: "web", tag: "2.4.0", digest: D("7"), pin: `2.4.0@${D("7")}` },
        ]);
    });

    it("a service whose committed tag this merge changed deploys the committed tag; the others keep theirs", () => {
        const r = plan({ committedThen: { api: "1.3.0", web: "2.3.0" } });
        assert.deepStrictEqual(
            r.writes.map((w) => w.service),
            ["web"],
        );
        assert.ok(
            r.lines.includes("api: this merge changes its committed tag from 1.3.0 to 1.4.0: deploying 1.4.0"),
            r.lines.join("\n"),
        );
        assert.deepStrictEqual(
            plan({ committedThen: { web: "2.3.0" } }).lines[0],
            "api: this merge changes its committed tag from nothing to 1.4.0: deploying 1.4.0",
            "a service new since then",
        );
    });

    it("a named service gets its tag with digest and pin cleared, or exactly tag@digest; named ones are not kept", () => {
        const r = plan({
            requested: [
                { name: "api", tag: "1.5.0" },
                { name: "web", tag: "2.4.1", digest: D("b") },
            ],
        });
        assert.deepStrictEqual(r.writes, [
            { service: "api", tag: "1.5.0", digest: "", pin: "" },
            { service: "web", tag: "2.4.1", digest: D("b"), pin: `2.4.1@${D("b")}` },
        ]);
    });

    it("a stack with no release yet deploys the committed tags; a service no longer declared is not kept", () => {
        assert.deepStrictEqual(plan({ record: {} }), {
            writes: [],
            lines: ["staging has no release yet: deploying the committed tags"],
        });
        const gone = plan({ record: { services: { ...record.services, old: { tag: "1", digest: D("1") } } } });
        assert.ok(gone.lines.includes("old is no longer a service of staging: nothing to keep"));
        assert.ok(!gone.writes.some((w) => w.service === "old"));
    });

    it("refuses a service the stack does not declare, before anything is written", () => {
        assert.throws(
            () =>
                plan({
                    requested: [
                        { name: "api", tag: "1" },
                        { name: "worker", tag: "1" },
                    ],
                }),
            /^Error: services: worker is not a service of staging \(no platform:services\.worker in Pulumi\.staging\.yaml at this commit\)$/,
        );
    });

    it("reads each service's committed tag from a stack file, numbers as written", () => {
        assert.deepStrictEqual(
            committedTags('config:\n  platform:services:\n    api:\n      tag: "1.10"\n    web:\n      image: x\n'),
            { api: "1.10", web: "" },
        );
        assert.deepStrictEqual(committedTags("config:\n  platform:region: nyc3\n"), {});
        assert.strictEqual(committedTags(":\n- ["), undefined);
    });

    it("names a release set as the workflow hands it on", () => {
        assert.strictEqual(
            recordText({
                services: { api: { tag: "1.5.0", digest: D("a") }, web: { tag: "2.4.1", digest: "" }, none: {} },
            }),
            `api=1.5.0@${D("a")} web=2.4.1`,
        );
        assert.strictEqual(recordText({}), "");
    });
});

describe("a promotion queued before an emergency rollback", () => {
    const rel = (api: string, web: string, time: string): Release =>
        ({
            services: { api: { tag: api, digest: D(api === "1.5.0" ? "5" : "4") }, web: { tag: web, digest: D("7") } },
            time,
            started: time,
            message: "",
        }) as Release;
    const history = [
        rel("1.4.0", "2.4.1", "2026-12-06T03:00:00Z"),
        rel("1.5.0", "2.4.1", "2026-12-06T02:00:00Z"),
        rel("1.4.0", "2.4.1", "2026-12-05T12:00:00Z"),
    ];
    const bad = requestedSet(`api=1.5.0@${D("5")} web=2.4.1@${D("7")}`);

    it("is refused when it would re-deploy the release prod was just rolled back from", () => {
        assert.match(
            promotionOverRollback("prod", history, bad)!,
            /^prod was rolled back from api 1\.5\.0, web 2\.4\.1 to api 1\.4\.0, web 2\.4\.1 at 2026-12-06T03:00:00Z, after this promotion was queued/,
        );
    });

    it("goes ahead otherwise: another release, no rollback, a short history", () => {
        assert.strictEqual(
            promotionOverRollback("prod", history, requestedSet(`api=1.6.0@${D("6")} web=2.4.1@${D("7")}`)),
            undefined,
            "a newer fix",
        );
        const forward = [
            rel("1.5.0", "2.4.1", "2026-12-06T03:00:00Z"),
            rel("1.4.0", "2.4.1", "2026-12-06T02:00:00Z"),
            rel("1.3.0", "2.4.1", "2026-12-05T12:00:00Z"),
        ];
        assert.strictEqual(
            promotionOverRollback("prod", forward.slice(1), bad),
            undefined,
            "the newest update is no rollback",
        );
        assert.strictEqual(
            promotionOverRollback("prod", history.slice(0, 2), bad),
            undefined,
            "two releases cannot show a rollback",
        );
    });
});

describe("npm run select-release", () => {
    function fake(
        o: {
            record?: ReleaseRecord;
            messages?: string[];
            contains?: boolean;
            stackFile?: string;
            unreadable?: boolean;
            releases?: Release[];
        } = {},
    ) {
        const writes: ImageWrite[] = [];
        const backend: Backend = {
            release: async () => {
                if (o.unreadable) throw new Error("error: could not read the backend");
                return o.record ?? {};
            },
            updateMessages: async () => {
                if (o.unreadable) throw new Error("error: could not read the backend");
                return o.messages ?? [];
            },
            releases: async () => o.releases ?? [],
            declared: async () => ({ api: { tag: "1.4.0" }, web: { tag: "2.3.0" } }),
            setImage: async (_stack, w) => {
                writes.push(w);
            },
            contains: () => o.contains ?? false,
            stackFileAt: () => o.stackFile,
            head: () => SHA("e"),
        };
        return { backend, writes };
    }
    async function run(argv: string[], backend: Backend, env: NodeJS.ProcessEnv = { GITHUB_ACTIONS: "true" }) {
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
            env,
            () => backend,
        );
        return { code, out, err };
    }

    it("check: exit 0, or exit 2 with one ::error:: line in GitHub Actions (a plain error line elsewhere)", async () => {
        const { backend } = fake();
        const ok = await run(
            [
                "check",
                "--stack",
                "prod",
                "--mode",
                "up",
                "--commit",
                SHA("a"),
                "--services",
                "",
                "--service",
                "",
                "--require-release",
                "false",
            ],
            backend,
        );
        assert.deepStrictEqual([ok.code, ok.out, ok.err], [0, "", ""]);
        const bad = await run(["check", "--stack", "qa", "--mode", "up", "--commit", SHA("a")], backend);
        assert.deepStrictEqual(
            [bad.code, bad.err],
            [2, "::error::stack must be one of dev, staging, prod, got 'qa'\n"],
        );
        const local = await run(
            ["check", "--stack", "prod", "--mode", "up", "--commit", SHA("a"), "--require-release", "yes"],
            backend,
            {},
        );
        assert.deepStrictEqual(
            [local.code, local.err],
            [2, "error: --require-release must be true or false, got 'yes'\n"],
        );
        assert.strictEqual((await run(["deploy", "--stack", "prod"], backend)).code, 2);
        assert.match((await run(["--help"], backend)).out, /^Usage: npm run select-release -- <command>/);
    });

    it("order: writes running and skip to the output file, and fails a dispatch it would drop", async () => {
        const file = path.join(tmpdir("select-"), "out");
        const { backend } = fake({ messages: [`Deploy #3 at ${SHA("b")}`], contains: true });
        const skip = await run(
            [
                "order",
                "--stack",
                "staging",
                "--commit",
                SHA("a"),
                "--services",
                "",
                "--require-release",
                "false",
                "--github-output",
                file,
            ],
            backend,
        );
        assert.strictEqual(skip.code, 0, skip.err);
        assert.strictEqual(fs.readFileSync(file, "utf8"), `running=${SHA("b")}\nskip=true\n`);
        assert.match(skip.out, /^::notice::staging already runs/);
        const dropped = await run(
            ["order", "--stack", "staging", "--commit", SHA("a"), "--services", "api=1.5.0"],
            backend,
        );
        assert.deepStrictEqual([dropped.code, dropped.err.trim().split("\n").length], [1, 1]);
        assert.match(
            dropped.err,
            /^::error::staging already runs .*: api=1\.5\.0 was not deployed; dispatch it again$/m,
        );
        const unreadable = await run(
            ["order", "--stack", "staging", "--commit", SHA("a")],
            fake({ unreadable: true }).backend,
        );
        assert.deepStrictEqual(
            [unreadable.code, unreadable.err],
            [2, "::error::could not read the backend\n"],
            "an unreadable history fails the deploy",
        );
    });

    it("order: refuses, exit 3, a promotion that would re-deploy the release prod was just rolled back from", async () => {
        const rel = (api: string, time: string) =>
            ({
                services: { api: { tag: api, digest: D(api === "1.5.0" ? "5" : "4") } },
                time,
                started: time,
                message: "",
            }) as Release;
        const { backend } = fake({
            releases: [
                rel("1.4.0", "2026-12-06T03:00:00Z"),
                rel("1.5.0", "2026-12-06T02:00:00Z"),
                rel("1.4.0", "2026-12-05T12:00:00Z"),
            ],
        });
        const r = await run(
            [
                "order",
                "--stack",
                "prod",
                "--commit",
                SHA("a"),
                "--services",
                `api=1.5.0@${D("5")}`,
                "--require-release",
                "true",
            ],
            backend,
        );
        assert.strictEqual(r.code, 3);
        assert.match(
            r.err,
            /^::error::prod was rolled back from 1\.5\.0 to 1\.4\.0 at .*promote again once staging runs a fixed release$/m,
        );
    });

    it("apply: keeps the running release, takes the named one, and compares with the stack file at the running commit", async () => {
        const record = { services: { api: { tag: "1.4.2", digest: D("3") }, web: { tag: "2.4.0", digest: D("7") } } };
        const f = fake({
            record,
            stackFile: "config:\n  platform:services:\n    api:\n      tag: 1.3.0\n    web:\n      tag: 2.3.0\n",
        });
        const r = await run(
            ["apply", "--stack", "staging", "--services", `web=2.4.1@${D("b")}`, "--running", SHA("b")],
            f.backend,
        );
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(
            f.writes,
            [{ service: "web", tag: "2.4.1", digest: D("b"), pin: `2.4.1@${D("b")}` }],
            "api's committed tag changed: the merge deploys it",
        );
        const bad = fake({ record });
        assert.strictEqual((await run(["apply", "--stack", "staging", "--services", "worker=1"], bad.backend)).code, 2);
        assert.deepStrictEqual(bad.writes, [], "nothing written before every name is checked");
        assert.strictEqual(
            (await run(["apply", "--stack", "staging"], fake({ unreadable: true }).backend)).code,
            2,
            "a backend that cannot be read fails instead of falling back",
        );
    });

    it("record: the commit deployed (the running one when skipped) and the release set; an unreadable backend names none", async () => {
        const { backend } = fake({ record: { services: { api: { tag: "1.5.0", digest: D("a") } } } });
        assert.strictEqual(
            (await run(["record", "--stack", "prod"], backend)).out,
            `commit=${SHA("e")}\nservices=api=1.5.0@${D("a")}\n`,
        );
        assert.strictEqual(
            (await run(["record", "--stack", "prod", "--skipped", "true", "--running", SHA("b")], backend)).out,
            `commit=${SHA("b")}\nservices=api=1.5.0@${D("a")}\n`,
        );
        assert.strictEqual(
            (await run(["record", "--stack", "prod"], fake({ unreadable: true }).backend)).out,
            `commit=${SHA("e")}\nservices=\n`,
        );
    });
});
