import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { script } from "../infra/app";
import { named, ofType, record, T, tmpdir } from "./helpers";

const DIR = path.join(__dirname, "fixtures", "lifecycle");
const DUMP = JSON.stringify({ bucket: "fixture-db-dumps", region: "fra1", retentionDays: 14 });

describe("database dumps before migrating (dbDump)", () => {
    it("off by default: no bucket, no dump in the migration step", async () => {
        const rec = await record("prod", { configDir: DIR });
        assert.deepStrictEqual(ofType(rec, T.spacesBucket), []);
        const env = named(rec, T.command, "prod-web-1-app-migrate").inputs.environment as Record<string, string>;
        assert.strictEqual(env.DUMP_URL, undefined);
    });

    it("on: a private bucket the program owns, dumps expire after the retention, and the migration step uploads there", async () => {
        const rec = await record("prod", { configDir: DIR, overrides: { dbDump: DUMP } });
        const [bucket] = ofType(rec, T.spacesBucket);
        assert.strictEqual(bucket.inputs.name, "fixture-db-dumps");
        assert.strictEqual(bucket.inputs.region, "fra1");
        assert.strictEqual(bucket.inputs.acl, "private");
        assert.deepStrictEqual(bucket.inputs.lifecycleRules, [{ enabled: true, expiration: { days: 14 } }]);
        // Spaces keys, not the API token, manage the bucket; prod keeps it if it leaves the program.
        assert.ok(bucket.opts.provider, "a provider with the Spaces keys");
        assert.ok(bucket.opts.protect && bucket.opts.retainOnDelete);
        const migrate = named(rec, T.command, "prod-web-1-app-migrate");
        assert.ok(migrate.secretInputs.includes("environment"), "the Spaces keys stay secret");
        const env = migrate.inputs.environment as Record<string, string>;
        assert.strictEqual(env.DUMP_URL, "https://fra1.digitaloceanspaces.com/fixture-db-dumps");
        assert.strictEqual(env.DUMP_REGION, "fra1");
        assert.strictEqual(env.DUMP_PREFIX, "prod");
        assert.ok(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
    });
});

describe("migrate.sh: the dump upload needs curl >= 8.0.0 (issue 24 #10)", () => {
    /**
     * Runs migrate.sh as the deploy does (bash -c, on the deployer) with stand-ins for curl and
     * docker first on PATH: curl answers --version with the given line, docker records its calls.
     */
    function migrate(curlVersionLine: string | undefined, env: Record<string, string>) {
        const bin = tmpdir("migrate-bin-");
        const calls = path.join(bin, "calls");
        fs.writeFileSync(calls, "");
        if (curlVersionLine !== undefined) {
            fs.writeFileSync(
                path.join(bin, "curl"),
                `#!/bin/sh\necho "curl $*" >> "${calls}"\n[ "$1" = --version ] && printf '%s\\n' '${curlVersionLine}' 'Release-Date: 2023-02-20'\ncat > /dev/null\nexit 0\n`,
                { mode: 0o755 },
            );
        }
        fs.writeFileSync(
            path.join(bin, "docker"),
            `#!/bin/sh\necho "docker $*" >> "${calls}"\ncase "$*" in *restore-point*) echo 2026-11-23T15:04:05.123456Z ;; *platform.role=dump*) echo PGDMP ;; esac\n`,
            { mode: 0o755 },
        );
        // Without a curl stand-in, PATH holds only the stand-ins and the shell's basics, so `curl` is not found.
        const basics = curlVersionLine === undefined ? bin : `${bin}:${process.env.PATH}`;
        if (curlVersionLine === undefined)
            for (const tool of ["mktemp", "date", "rm", "uname"]) fs.symlinkSync(execPath(tool), path.join(bin, tool));
        const res = spawnSync("/bin/bash", ["-c", script("migrate")], {
            // stdin closed, as the deploy runs it: on a socket, bash would read ~/.bashrc as under sshd.
            stdio: ["ignore", "pipe", "pipe"],
            encoding: "utf8",
            env: {
                PATH: basics,
                DOCKER_HOST: "ssh://deploy@web-1",
                SERVER: "web-1",
                IMAGE: "ghcr.io/example/app@sha256:1",
                DATABASE_URL: "postgres://u:p@db/app",
                MIGRATE_ARGS: "migrate",
                PG_CLIENT_IMAGE: "postgres:17-alpine",
                ...env,
            },
        });
        return { status: res.status, stdout: res.stdout, stderr: res.stderr, calls: fs.readFileSync(calls, "utf8") };
    }
    const execPath = (tool: string) =>
        spawnSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    const DUMP = {
        DUMP_URL: "https://fra1.digitaloceanspaces.com/fixture-db-dumps",
        DUMP_REGION: "fra1",
        DUMP_PREFIX: "prod",
        AWS_ACCESS_KEY_ID: "DO00KEY",
        AWS_SECRET_ACCESS_KEY: "s3cret",
    };

    for (const line of [
        "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.19",
        "curl 7.81.0 (x86_64-pc-linux-gnu)",
    ]) {
        it(`refuses ${line.split(" ").slice(0, 2).join(" ")} in one line, before the database is touched`, () => {
            const r = migrate(line, DUMP);
            assert.strictEqual(r.status, 1, r.stderr);
            const version = line.split(" ")[1];
            assert.match(
                r.stderr,
                new RegExp(
                    `^error: curl ${version.replace(/\./g, "\\.")} on .* cannot sign the dump upload: curl >= 8\\.0\\.0 is needed to sign an upload with --aws-sigv4 `,
                ),
            );
            assert.strictEqual(r.stderr.trim().split("\n").length, 1);
            assert.doesNotMatch(r.calls, /^docker /m, "no clock read, no dump, no migration");
        });
    }

    it("refuses when there is no curl at all", () => {
        const r = migrate(undefined, DUMP);
        assert.strictEqual(r.status, 1, r.stderr);
        assert.match(
            r.stderr,
            /^error: curl \(not found\) on .* cannot sign the dump upload: curl >= 8\.0\.0 is needed/,
        );
        assert.strictEqual(r.calls, "");
    });

    for (const line of [
        "curl 8.0.0 (x86_64-pc-linux-gnu)",
        "curl 8.5.0 (x86_64-pc-linux-gnu) libcurl/8.5.0",
        "curl 10.1.2 (aarch64-unknown-linux-gnu)",
    ]) {
        it(`goes on with ${line.split(" ").slice(0, 2).join(" ")}: dumps, uploads with SigV4, migrates`, () => {
            const r = migrate(line, DUMP);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.calls, /^curl -fsS -K - --aws-sigv4 aws:amz:fra1:s3 -T /m);
            assert.match(r.calls, /platform\.role=migrate/);
        });
    }

    it("without dbDump, curl is not needed", () => {
        const r = migrate("curl 7.68.0 (x86_64-pc-linux-gnu)", {});
        assert.strictEqual(r.status, 0, r.stderr);
        assert.doesNotMatch(r.calls, /^curl /m);
    });
});
