import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { describe as describeFinding, findDestructiveChanges, stepType } from "../tools/lib/guard";
import { main } from "../tools/guard";
import { tmpdir } from "./helpers";

const step = (op: string, type: string, name: string, extra: Record<string, unknown> = {}) => ({
    op,
    urn: `urn:pulumi:prod::platform::${type}::${name}`,
    newState: { type },
    ...extra,
});
const STACK = step("same", "pulumi:pulumi:Stack", "platform-prod");

const fixture = (name: string) => path.join(__dirname, "fixtures", "preview", `${name}.json`);
const load = (name: string) => JSON.parse(fs.readFileSync(fixture(name), "utf8"));

describe("replacement guard", () => {
    it("lets a release through: containers replaced, nothing guarded touched", () => {
        assert.deepStrictEqual(findDestructiveChanges(load("prod-image-change")), []);
    });

    it("flags a replaced server, a replaced database cluster and a deleted DNS record, with reasons", () => {
        const found = findDestructiveChanges(load("prod-droplet-and-db-replace"));
        assert.deepStrictEqual(
            found.map((f) => [f.what, f.op, f.name, f.reasons]),
            [
                ["server", "replace", "prod-web-1", ["region"]],
                ["database cluster", "replace", "prod-cluster", ["version"]],
                ["DNS record", "delete", "prod-api", []],
            ],
        );
    });

    it("counts a resource once when replacement steps are shown too", () => {
        const preview = load("prod-droplet-and-db-replace");
        const replace = preview.steps[1];
        preview.steps.push({ ...replace, op: "create-replacement" }, { ...replace, op: "delete-replaced" });
        assert.strictEqual(findDestructiveChanges(preview).filter((f) => f.name === "prod-web-1").length, 1);
    });

    it("reads the type from the URN when a step has no state", () => {
        assert.strictEqual(
            stepType({
                op: "delete",
                urn: "urn:pulumi:prod::platform::platform:network:Network$digitalocean:index/vpc:Vpc::prod-vpc",
            }),
            "digitalocean:index/vpc:Vpc",
        );
    });

    it("the CLI fails the job unless the change is explicitly allowed", () => {
        let out = "";
        assert.strictEqual(
            main(["--preview", fixture("prod-droplet-and-db-replace"), "--stack", "prod"], (s) => {
                out += s;
            }),
            1,
        );
        assert.match(out, /replaces server prod-web-1 \(because of region\)/);
        assert.match(out, /allow-replacement/);
        // Allowed, a preview that failed (here: the protected cluster) still does not pass.
        assert.strictEqual(
            main(["--preview", fixture("prod-droplet-and-db-replace"), "--allow"], () => undefined),
            2,
        );
        const dir = tmpdir("guard-");
        const clean = { ...load("prod-droplet-and-db-replace"), diagnostics: [] };
        fs.writeFileSync(path.join(dir, "clean.json"), JSON.stringify(clean));
        assert.strictEqual(
            main(["--preview", path.join(dir, "clean.json"), "--allow"], () => undefined),
            0,
        );
        assert.strictEqual(
            main(["--preview", fixture("prod-image-change")], () => undefined),
            0,
        );
        out = "";
        assert.strictEqual(
            main(["--preview", "/nonexistent.json"], (s) => {
                out += s;
            }),
            2,
        );
        assert.match(out, /^error: cannot read/);
    });

    it("fails closed: an empty, non-JSON, stepless or unreadable preview cannot pass", () => {
        const dir = tmpdir("guard-");
        for (const [name, text] of [
            ["empty", ""],
            ["text", "error: failed to load plugin"],
            ["nosteps", "{}"],
            ["zero", '{"steps":[]}'],
        ]) {
            const file = path.join(dir, `${name}.json`);
            fs.writeFileSync(file, text);
            let out = "";
            assert.strictEqual(
                main(["--preview", file, "--allow"], (s) => {
                    out += s;
                }),
                2,
                name,
            );
            assert.match(out, /^error: .*refuses what it cannot judge/, name);
            assert.doesNotMatch(out, /keeps every server/, name);
        }
        let out = "";
        assert.strictEqual(
            main(["--preview", fixture("prod-image-change"), "--json"], (s) => {
                out += s;
            }),
            0,
        );
        assert.strictEqual(JSON.parse(out).ok, true);
    });

    it("refuses deleting a firewall and replacing the database user, the balancer, the proxy's data volume", () => {
        const found = findDestructiveChanges({
            steps: [
                STACK,
                step("delete", "digitalocean:index/firewall:Firewall", "prod-fw"),
                step("delete", "digitalocean:index/databaseFirewall:DatabaseFirewall", "prod-firewall"),
                step("replace", "digitalocean:index/databaseUser:DatabaseUser", "prod-user", {
                    replaceReasons: ["name"],
                }),
                step("replace", "digitalocean:index/loadBalancer:LoadBalancer", "prod-lb", {
                    replaceReasons: ["vpcUuid"],
                }),
                step("replace", "docker:index/volume:Volume", "prod-web-1-proxy-data", { replaceReasons: ["labels"] }),
            ],
        });
        assert.deepStrictEqual(
            found.map((f) => [f.op, f.what, f.blocking]),
            [
                ["delete", "cloud firewall", true],
                ["delete", "database firewall", true],
                ["replace", "database user", true],
                ["replace", "load balancer", true],
                ["replace", "docker volume", true],
            ],
        );
    });

    it("reports a pool or certificate replaced under a new name, and a resize, without refusing them", () => {
        const found = findDestructiveChanges({
            steps: [
                STACK,
                step("replace", "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", "prod-pool", {
                    replaceReasons: ["size", "name"],
                }),
                step("replace", "digitalocean:index/certificate:Certificate", "prod-cert", {
                    replaceReasons: ["domains", "name"],
                }),
                step("update", "digitalocean:index/droplet:Droplet", "prod-web-1", { diffs: ["size"] }),
                step("update", "digitalocean:index/droplet:Droplet", "prod-web-2", {
                    detailedDiff: { tags: { kind: "update" } },
                }),
            ],
        });
        assert.deepStrictEqual(
            found.map((f) => [f.op, f.what, f.name, f.blocking]),
            [
                ["replace", "connection pool", "prod-pool", false],
                ["replace", "TLS certificate", "prod-cert", false],
                ["restart", "server", "prod-web-1", false],
            ],
        );
        assert.match(
            describeFinding(found[2]),
            /restarts server prod-web-1 \(because of size\): powered off, resized and started again, one server at a time/,
        );
    });
});
