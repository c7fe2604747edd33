/** The GitHub repository that deploys the stack, and who must approve its deployments. */
import { q, Reader, ParseContext } from "../reader";
import { APPROVAL_MODES, ApprovalMode, STACK_TIERS, StackName } from "../schema";
import { fail, isGithubName, isGithubRepositoryName, isTeamSlug, oneOf } from "../validate";

export interface GithubSettings {
    owner: string;
    repository: string;
    approvalMode: ApprovalMode;
    reviewers: string[];
    reviewerTeams: string[];
    waitTimerMinutes: number;
}

export function parseGithub(r: Reader, ctx: ParseContext): GithubSettings {
    const owner = r.nonEmpty("githubOwner");
    if (!isGithubName(owner)) fail(q("githubOwner"), owner, "expected a GitHub user or organization name");
    const repository = r.nonEmpty("githubRepository");
    if (!isGithubRepositoryName(repository))
        fail(q("githubRepository"), repository, "expected a repository name (letters, digits, _ . -)");
    const github = {
        owner,
        repository,
        approvalMode: oneOf(
            q("githubApprovalMode"),
            r.str("githubApprovalMode"),
            APPROVAL_MODES,
            "an approval mode",
        ) as ApprovalMode,
        reviewers: r.strings("githubReviewers", { each: isGithubName, what: "a GitHub username" }),
        reviewerTeams: r.strings("githubReviewerTeams", { each: isTeamSlug, what: "a team slug" }),
        waitTimerMinutes: r.int("githubWaitTimerMinutes", 0, 43200),
    };
    checkGithubTier(ctx.stack, github);
    return github;
}

/** What the stack's tier asks of its deployments: reviewers where approvals are required (prod). */
export function checkGithubTier(stack: StackName, github: GithubSettings): void {
    if (STACK_TIERS[stack].approvals && github.reviewers.length + github.reviewerTeams.length === 0) {
        fail(
            q("githubReviewers"),
            [],
            "expected at least one reviewer (or githubReviewerTeams) in prod: deployments to prod need an approval",
        );
    }
    checkApprovalRules(stack, github);
}

/** GitHub accepts at most six users or teams as an environment's required reviewers. */
export const MAX_ENVIRONMENT_REVIEWERS = 6;

/**
 * What each approval mode can and cannot carry. Environment mode: GitHub's own reviewers
 * (at most six). Workflow mode: the approval step counts listed users' comments only (a
 * team's membership needs an org-scoped token the workflow does not have), the wait timer
 * is an environment rule a private repository below Enterprise cannot have, and a stack
 * with reviewers needs two users so someone other than the merger can approve.
 */
export function checkApprovalRules(stack: StackName, github: GithubSettings): void {
    const { approvalMode, reviewers, reviewerTeams, waitTimerMinutes } = github;
    if (approvalMode === "environment") {
        if (reviewers.length + reviewerTeams.length > MAX_ENVIRONMENT_REVIEWERS) {
            fail(
                q("githubReviewers"),
                [...reviewers, ...reviewerTeams],
                `expected at most ${MAX_ENVIRONMENT_REVIEWERS} reviewers and teams together (GitHub's limit for an environment)`,
            );
        }
        return;
    }
    if (reviewerTeams.length > 0) {
        fail(
            q("githubReviewerTeams"),
            reviewerTeams,
            "expected no teams in workflow approval mode (the approval step counts listed users only); list the approvers in githubReviewers",
        );
    }
    if (waitTimerMinutes !== 0) {
        fail(
            q("githubWaitTimerMinutes"),
            waitTimerMinutes,
            "expected 0 in workflow approval mode (a wait timer is an environment rule that private repositories get only on GitHub Enterprise)",
        );
    }
    if (reviewers.length === 1) {
        fail(
            q("githubReviewers"),
            reviewers,
            `expected at least two users in workflow approval mode for ${stack}, so someone other than the one who merged can approve`,
        );
    }
}
