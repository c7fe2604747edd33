/** The stacks a project directory defines: one per committed Pulumi.<stack>.yaml. */
import * as fs from "fs";

export function committedStacksIn(dir: string): string[] {
    return fs.readdirSync(dir).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();
}
