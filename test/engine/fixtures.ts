/**
 * The engine tier's stacks: the tests' own fixture team (test/fixtures/stacks, team A),
 * never the sample Pulumi.*.yaml, with the secrets the stack needs set to placeholders
 * (tools/lib/stacks.ts offlineSecrets: the same ones the offline plan uses).
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "../../infra/config/schema";
import { offlineSecrets, readStackConfig } from "../../tools/lib/stacks";
import { StackFixture } from "./harness";

const DIR = path.join(__dirname, "..", "fixtures", "stacks");

export type Stack = "dev" | "staging" | "prod";
export const STACKS: readonly Stack[] = ["dev", "staging", "prod"];

/** A fixture stack as its file states it, plus placeholder secrets set through the CLI. */
export function fixtureStack(stack: Stack): StackFixture {
    const doc = parse(fs.readFileSync(path.join(DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
    };
    const config = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(`${PROJECT}:`, ""), v]));
    const secrets: Record<string, string> = {};
    for (const [k, v] of Object.entries(offlineSecrets(readStackConfig(stack, DIR).values))) {
        const key = k.replace(`${PROJECT}:`, "");
        if (key === "appSecrets") {
            // One `--path` secret per name, as a team sets them.
            for (const [name, value] of Object.entries(JSON.parse(v) as Record<string, string>))
                secrets[`appSecrets.${name}`] = value;
        } else {
            secrets[key] = v;
        }
    }
    return { config, secrets };
}

/** A fixture with some keys changed (a user's edit of the stack file). */
export function withChanges(fx: StackFixture, changes: Record<string, unknown>): StackFixture {
    return { config: { ...fx.config, ...changes }, secrets: fx.secrets };
}
