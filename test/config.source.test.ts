/** Reading the running program's config: secret detection depends on what the runtime knows. */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { pulumiSource } from "../infra/config";

describe("config: the runtime source", () => {
    afterEach(() => pulumi.runtime.setAllConfig({}, []));

    it("reports plain-text values of secret keys when the runtime knows which keys are secret", () => {
        pulumi.runtime.setAllConfig({ "platform:tailscaleApiKey": "tskey-api-x", "platform:ghcrToken": "ghp_plain" }, ["platform:tailscaleApiKey"]);
        const src = pulumiSource();
        assert.strictEqual(src.isSecret("tailscaleApiKey"), true);
        assert.strictEqual(src.isSecret("ghcrToken"), false);
        assert.strictEqual(src.get("ghcrToken"), "ghp_plain");
    });

    it("trusts values when the runtime was given no secret keys at all, rather than refusing real secrets", () => {
        pulumi.runtime.setAllConfig({ "platform:tailscaleApiKey": "tskey-api-x" }, []);
        assert.strictEqual(pulumiSource().isSecret("tailscaleApiKey"), true);
    });
});
