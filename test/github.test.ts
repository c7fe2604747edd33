import * as assert from "assert";
import { protectionRules } from "../infra/github";
import { atLeastOne, fixtureValue, named, ofType, record, T } from "./helpers";

describe("github environments", () => {
    it("prod: required reviewers, no self-review, no admin bypass, a wait timer, the main branch only", async () => {
        const rec = await record("prod");
        const env = named(rec, T.environment, "prod-environment");
        assert.strictEqual(env.inputs.environment, "prod");
        assert.strictEqual(env.inputs.repository, fixtureValue("prod", "githubRepository"));
        const reviewers = env.inputs.reviewers as { users: number[]; teams: number[] }[];
        assert.strictEqual(reviewers[0].users.length, (fixtureValue("prod", "githubReviewers") as string[]).length);
        assert.ok(
            reviewers[0].users.every((id) => Number.isInteger(id) && id > 0),
            "usernames are resolved to numeric ids",
        );
        assert.strictEqual(env.inputs.preventSelfReview, true);
        assert.strictEqual(env.inputs.canAdminsBypass, false);
        assert.strictEqual(env.inputs.waitTimer, Number(fixtureValue("prod", "githubWaitTimerMinutes")));
        assert.deepStrictEqual(env.inputs.deploymentBranchPolicy, {
            protectedBranches: false,
            customBranchPolicies: true,
        });
        const policies = ofType(rec, T.envPolicy).map(
            (p) => p.inputs.branchPattern ?? `tag:${String(p.inputs.tagPattern)}`,
        );
        assert.deepStrictEqual(policies, ["main"], "no tag pattern: a pushed tag must not reach prod's secrets");
        assert.strictEqual(env.opts.provider, "github");
        assert.strictEqual(
            named(rec, "pulumi:providers:github", "github").inputs.owner,
            fixtureValue("prod", "githubOwner"),
        );
    });

    it("prod in workflow approval mode: no required reviewers, self-review rule or wait timer (private repositories below Enterprise refuse them), still the main branch only", async () => {
        const rec = await record("prod", {
            overrides: {
                githubApprovalMode: "workflow",
                githubWaitTimerMinutes: "0",
                githubReviewers: '["alice-ops","bob-ops"]',
            },
        });
        const env = named(rec, T.environment, "prod-environment");
        assert.deepStrictEqual(env.inputs.reviewers, []);
        assert.strictEqual(env.inputs.preventSelfReview, false);
        assert.ok(!env.inputs.waitTimer, "a wait timer of 0 is not sent to the API");
        assert.deepStrictEqual(env.inputs.deploymentBranchPolicy, {
            protectedBranches: false,
            customBranchPolicies: true,
        });
        assert.deepStrictEqual(
            ofType(rec, T.envPolicy).map((p) => [p.name, p.inputs.branchPattern, p.inputs.tagPattern]),
            [["prod-branch-main", "main", undefined]],
            "in workflow mode the branch policy is all that keeps other refs away from prod's secrets",
        );
    });

    it("protection rules per approval mode", () => {
        assert.deepStrictEqual(protectionRules("environment", ["a"], ["t"], 5), {
            reviewers: ["a"],
            reviewerTeams: ["t"],
            waitTimerMinutes: 5,
        });
        assert.deepStrictEqual(protectionRules("workflow", ["a", "b"], [], 0), {
            reviewers: [],
            reviewerTeams: [],
            waitTimerMinutes: 0,
        });
    });

    it("staging: deployments from main only, no approval", async () => {
        const rec = await record("staging");
        const env = named(rec, T.environment, "staging-environment");
        assert.deepStrictEqual(env.inputs.reviewers, []);
        assert.deepStrictEqual(
            ofType(rec, T.envPolicy).map((p) => p.inputs.branchPattern),
            ["main"],
        );
    });

    it("dev: the main branch only too, since its environment holds dev's DATABASE_URL", async () => {
        const rec = await record("dev");
        const env = named(rec, T.environment, "dev-environment");
        assert.deepStrictEqual(env.inputs.deploymentBranchPolicy, {
            protectedBranches: false,
            customBranchPolicies: true,
        });
        assert.deepStrictEqual(
            ofType(rec, T.envPolicy).map((p) => p.inputs.branchPattern),
            ["main"],
        );
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: DATABASE_URL and app secrets are environment secrets; plain settings are variables`, async () => {
            const rec = await record(stack);
            const secrets = ofType(rec, T.envSecret);
            assert.deepStrictEqual(
                secrets.map((s) => s.inputs.secretName),
                [
                    "DATABASE_URL",
                    ...Object.values(fixtureValue(stack, "services") as Record<string, { secrets?: string[] }>).flatMap(
                        (svc) => svc.secrets ?? [],
                    ),
                ],
            );
            for (const s of secrets) {
                assert.strictEqual(s.inputs.environment, stack);
                assert.ok(s.secretInputs.includes("value"), `${String(s.inputs.secretName)} stays secret`);
            }
            assert.match(String(secrets[0].inputs.value), /^postgresql:\/\/app:.+@private-pool-/);
            const vars = Object.fromEntries(
                ofType(rec, T.envVariable).map((v) => [v.inputs.variableName, v.inputs.value]),
            );
            assert.deepStrictEqual(Object.keys(vars).sort(), [
                "API_URL",
                "ENVIRONMENT",
                "FRONTEND_URL",
                "LOG_LEVEL",
                "PUBLIC_URL",
            ]);
            assert.strictEqual(vars.ENVIRONMENT, stack);
            assert.strictEqual(vars.PUBLIC_URL, rec.outputs.publicUrl);
        });

        it(`${stack}: no secret value ever becomes a variable`, async () => {
            const rec = await record(stack);
            const secretValues = ofType(rec, T.envSecret).map((s) => String(s.inputs.value));
            for (const v of atLeastOne(ofType(rec, T.envVariable), "environment variable")) {
                assert.deepStrictEqual(v.secretInputs, [], `${String(v.inputs.variableName)} has no secret input`);
                for (const secret of secretValues)
                    assert.ok(
                        !String(v.inputs.value).includes(secret),
                        `${String(v.inputs.variableName)} carries a secret`,
                    );
            }
        });
    }
});
