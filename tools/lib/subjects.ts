/** Recorded resources as the policy rules see them. */
import { Subject } from "../../policy/rules";
import { RecordedStack } from "./mockrun";

export function subjectsOf(rec: RecordedStack): Subject[] {
    return rec.resources
        .filter((r) => r.custom)
        .map((r) => ({
            type: r.type,
            name: r.name,
            stack: rec.stack,
            props: r.inputs,
            protect: r.opts.protect,
            id: r.id,
            secretProps: r.secretInputs,
        }));
}
