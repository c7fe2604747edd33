import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { ApprovalMode } from "../config/schema";

export interface GithubEnvironmentArgs {
    /** Repository name (the owner is the provider's). @example "shop-platform" */
    readonly repository: string;
    /** Environment name; equals the stack name so workflows can say `environment: prod`. */
    readonly environment: string;
    /**
     * Who approves deployments to this environment. `environment`: the users and teams below
     * become the environment's required reviewers (private repositories need GitHub
     * Enterprise; Free, Pro and Team refuse them). `workflow`: the environment gets no
     * reviewer or wait timer, and the deploy workflow's approval step (which reads the same
     * list from the stack file) holds the deployment instead.
     * @default "environment"
     * @example "workflow"
     */
    readonly approvalMode: ApprovalMode;
    /** Users who may approve deployments. @example ["maria-acme", "devon-acme"] */
    readonly reviewers: string[];
    /** Team slugs (in the owner org) who may approve deployments. */
    readonly reviewerTeams: string[];
    /** Minutes a deployment waits before it may proceed. @default 0 */
    readonly waitTimerMinutes: number;
    /**
     * The only branch whose workflow runs may use this environment (and so its secrets): the
     * one the stack deploys from. No tag is ever admitted.
     * @example "main"
     */
    readonly deployBranch: string;
    /** Environment secrets: name → secret value. Never variables. */
    readonly secrets: Record<string, pulumi.Input<string>>;
    /** Environment variables: name → plain value. */
    readonly variables: Record<string, string>;
    readonly provider: pulumi.ProviderResource;
}

/**
 * The environment's own protection rules for an approval mode. In `workflow` mode none are
 * set: required reviewers and wait timers on a private repository below GitHub Enterprise
 * make the API refuse the whole environment, which would fail `pulumi up`. The provider
 * sends `wait_timer` only when it is non-zero and `reviewers` only when set
 * (terraform-provider-github, github/resource_github_repository_environment.go,
 * createUpdateEnvironmentData), so 0 and [] here mean "not sent".
 */
export function protectionRules(
    mode: ApprovalMode,
    reviewers: string[],
    reviewerTeams: string[],
    waitTimerMinutes: number,
): { reviewers: string[]; reviewerTeams: string[]; waitTimerMinutes: number } {
    return mode === "environment"
        ? { reviewers, reviewerTeams, waitTimerMinutes }
        : { reviewers: [], reviewerTeams: [], waitTimerMinutes: 0 };
}

/**
 * The stack's GitHub environment: who approves, the one branch that may deploy, and the
 * per-stack secrets and variables the workflows use.
 *
 * GitHub limits users hit (docs.github.com, "Deployments and environments"): private
 * repositories get environments at all only on Pro, Team or Enterprise, and required reviewers
 * or wait timers only on Enterprise; "protected branches only" with no branch protection
 * rules lets every branch deploy, so this program uses a custom branch policy instead.
 */
export class GithubEnvironment extends pulumi.ComponentResource {
    readonly environment: github.RepositoryEnvironment;

    constructor(name: string, args: GithubEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:github:GithubEnvironment", name, {}, opts);
        const on = { parent: this, provider: args.provider };
        const rules = protectionRules(args.approvalMode, args.reviewers, args.reviewerTeams, args.waitTimerMinutes);
        const users = rules.reviewers.map((username) => github.getUserOutput({ username }, on).id.apply(Number));
        const teams = rules.reviewerTeams.map((slug) => github.getTeamOutput({ slug }, on).id.apply(Number));

        this.environment = new github.RepositoryEnvironment(
            `${name}-environment`,
            {
                repository: args.repository,
                environment: args.environment,
                reviewers: users.length + teams.length > 0 ? [{ users, teams }] : [],
                preventSelfReview: users.length + teams.length > 0,
                canAdminsBypass: false,
                waitTimer: rules.waitTimerMinutes,
                // Custom policies, not "protected branches": with that, every protected branch
                // (and, without protection rules, every branch) may deploy.
                deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
            },
            on,
        );
        const env = { repository: args.repository, environment: this.environment.environment };
        // Named `branch-<branch>` as before, so the staging and prod policies stay in place.
        new github.RepositoryEnvironmentDeploymentPolicy(
            `${name}-branch-${args.deployBranch}`,
            { ...env, branchPattern: args.deployBranch },
            on,
        );
        for (const [secretName, value] of Object.entries(args.secrets)) {
            new github.ActionsEnvironmentSecret(
                `${name}-secret-${secretName}`,
                {
                    // `value`: `plaintext_value` is deprecated ("Use `value`",
                    // github/resource_github_actions_environment_secret.go); both encrypt before upload.
                    ...env,
                    secretName,
                    value: pulumi.secret(value),
                },
                on,
            );
        }
        for (const [variableName, value] of Object.entries(args.variables)) {
            new github.ActionsEnvironmentVariable(`${name}-var-${variableName}`, { ...env, variableName, value }, on);
        }
        this.registerOutputs({});
    }
}
