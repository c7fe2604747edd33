/**
 * Pulumi.yaml's config declarations are generated from the KEYS table in
 * infra/config/schema.ts, so the two never drift. Run `npm run gen:pulumi-yaml` after
 * adding a key; a test fails when the committed file is stale.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { KEYS, KeyDef, PROJECT } from "../infra/config/schema";

export function renderPulumiYaml(): string {
    const config: Record<string, Record<string, unknown>> = {};
    for (const [key, d] of Object.entries(KEYS) as [string, KeyDef][]) {
        const decl: Record<string, unknown> = {};
        // Pulumi's project schema has no object type: objects are declared untyped.
        if (d.type !== "object") decl.type = d.type;
        if (d.type === "array") decl.items = { type: "string" };
        decl.description = d.description;
        // The CLI treats a declared key without a default as required, so optional secrets get
        // an empty default; the program still refuses any non-empty secret stored in plain text.
        if (d.secret && d.required) decl.secret = true;
        const dflt = d.default ?? (d.secret && !d.required ? (d.type === "object" ? {} : "") : undefined);
        if (dflt !== undefined) decl.default = dflt;
        // Keys of the project's own namespace are declared without the `platform:` prefix.
        config[key] = decl;
    }
    const doc = {
        name: PROJECT,
        description:
            "A small team's delivery platform on DigitalOcean: servers, Postgres, edge, tailnet, DNS, monitoring, GitHub environments and the app's containers.",
        runtime: { name: "nodejs", options: { typescript: true } },
        main: "infra/",
        config,
    };
    return `# Generated from infra/config/schema.ts by \`npm run gen:pulumi-yaml\`. Edit the schema, not this file.\n${stringify(doc, { lineWidth: 0 })}`;
}

if (require.main === module) {
    fs.writeFileSync(path.join(__dirname, "..", "Pulumi.yaml"), renderPulumiYaml());
    console.log("wrote Pulumi.yaml");
}
