import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { findDestructiveChanges, stepType } from "../tools/lib/guard";
import { main } from "../tools/guard";

const fixture = (name: string) => path.join(__dirname, "fixtures", "preview", `${name}.json`);
const load = (name: string) => JSON.parse(fs.readFileSync(fixture(name), "utf8"));

describe("replacement guard", () => {
    it("lets a release through: containers replaced, nothing guarded touched", () => {
        assert.deepStrictEqual(findDestructiveChanges(load("prod-image-change")), []);
    });

    it("flags a replaced server, a replaced database cluster and a deleted DNS record, with reasons", () => {
        const found = findDestructiveChanges(load("prod-droplet-and-db-replace"));
        assert.deepStrictEqual(found.map((f) => [f.what, f.op, f.name, f.reasons]), [
            ["server", "replace", "prod-web-1", ["region"]],
            ["database cluster", "replace", "prod-cluster", ["version"]],
            ["DNS record", "delete", "prod-api", []],
        ]);
    });

    it("counts a resource once when replacement steps are shown too", () => {
        const preview = load("prod-droplet-and-db-replace");
        const replace = preview.steps[1];
        preview.steps.push({ ...replace, op: "create-replacement" }, { ...replace, op: "delete-replaced" });
        assert.strictEqual(findDestructiveChanges(preview).filter((f) => f.name === "prod-web-1").length, 1);
    });

    it("reads the type from the URN when a step has no state", () => {
        assert.strictEqual(stepType({ op: "delete", urn: "urn:pulumi:prod::platform::platform:network:Network$digitalocean:index/vpc:Vpc::prod-vpc" }), "digitalocean:index/vpc:Vpc");
    });

    it("the CLI fails the job unless the change is explicitly allowed", () => {
        let out = "";
        assert.strictEqual(main(["--preview", fixture("prod-droplet-and-db-replace"), "--stack", "prod"], (s) => { out += s; }), 1);
        assert.match(out, /replaces server prod-web-1 \(because of region\)/);
        assert.match(out, /allow-replacement/);
        assert.strictEqual(main(["--preview", fixture("prod-droplet-and-db-replace"), "--allow"], () => undefined), 0);
        assert.strictEqual(main(["--preview", fixture("prod-image-change")], () => undefined), 0);
        out = "";
        assert.strictEqual(main(["--preview", "/nonexistent.json"], (s) => { out += s; }), 2);
        assert.match(out, /^error: cannot read/);
    });
});
