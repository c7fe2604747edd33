/**
 * The engine tier: the real Pulumi CLI built from the module proxy, our minimal Node.js
 * language host, the policy pack, and STAND-IN provider plugins (tools/engine/plugins/standin)
 * installed under each SDK's plugin version, on the fixture team's stacks with a local file
 * backend. Every stack is applied from empty, previewed again, then changed the way a team
 * changes it in its first weeks. A pass here says what the engine does with the program and
 * the lifecycle table; it never says what a real provider or cloud would accept, so every
 * test title carries "[stand-ins]".
 */
import * as assert from "assert";
import * as path from "path";
import { TYPES } from "../../infra/lifecycle/types";
import { findDestructiveChanges } from "../../tools/lib/guard";
import { fixtureStack, Stack, STACKS, withChanges } from "./fixtures";
import {
    EngineEvent,
    EngineProject,
    engineMissing,
    lastLines,
    PreviewDigest,
    readManifest,
    ROOT,
    Run,
    StackFixture,
    standInLabel,
} from "./harness";

const manifest = readManifest();
const missing = engineMissing(manifest);
const POLICY = ["--policy-pack", path.join(ROOT, "policy")];

/** Every report line says the providers were stand-ins. */
const sit = (title: string, fn: (this: Mocha.Context) => void) => it(`[stand-ins] ${title}`, fn);

type Step = NonNullable<PreviewDigest["steps"]>[number];
const typeOf = (s: Step): string => s.newState?.type ?? s.oldState?.type ?? "";
const nameOf = (urn: string): string => urn.split("::").pop() ?? urn;
const stepsOf = (d: PreviewDigest, type: string): Step[] => (d.steps ?? []).filter((s) => typeOf(s) === type);
const changed = (d: PreviewDigest): Step[] => (d.steps ?? []).filter((s) => s.op !== "same");
const isApp = (urn: string): boolean => /-app$/.test(nameOf(urn));
const out = (r: Run): string => lastLines(`${r.stdout}\n${r.stderr}`, 25);

/** Steps the engine finished, in the order it finished them (the order of provider calls). */
function finished(events: EngineEvent[]): { op: string; urn: string; type: string }[] {
    return events.filter((e) => e.resOutputsEvent).map((e) => e.resOutputsEvent!.metadata);
}

/** When each step of `type` and `op` started and finished, by event index, in start order. */
function spans(events: EngineEvent[], type: string, op: string): { urn: string; start: number; end: number }[] {
    const out = new Map<string, { urn: string; start: number; end: number }>();
    events.forEach((e, i) => {
        const pre = e.resourcePreEvent?.metadata;
        if (pre && pre.type === type && pre.op === op && !out.has(pre.urn))
            out.set(pre.urn, { urn: pre.urn, start: i, end: Infinity });
        const done = e.resOutputsEvent?.metadata;
        if (done && out.has(done.urn) && done.op === op) out.get(done.urn)!.end = i;
    });
    return [...out.values()].sort((a, b) => a.start - b.start);
}

function policyViolations(events: EngineEvent[]): string[] {
    return events
        .filter((e) => e.policyEvent)
        .map(
            (e) =>
                `${e.policyEvent!.enforcementLevel} ${e.policyEvent!.policyName} on ${nameOf(e.policyEvent!.resourceUrn ?? "the stack")}: ${e.policyEvent!.message.replace(/\s+/g, " ").trim()}`,
        );
}

/** Asserts the policy pack analyzed resources in this run. */
function assertPolicyRan(events: EngineEvent[], what: string): void {
    const analyzed = events.filter((e) => e.policyAnalyzeSummaryEvent?.policyPackName === "platform-guardrails");
    assert.ok(analyzed.length > 0, `the policy pack analyzed no resource on ${what}`);
}

/** Asserts an `up` succeeded with the policy pack run, and returns its finished steps. */
function applied(r: { run: Run; events: EngineEvent[] }): { op: string; urn: string; type: string }[] {
    assert.strictEqual(r.run.code, 0, `up failed:\n${out(r.run)}\npolicy: ${policyViolations(r.events).join("; ")}`);
    assertPolicyRan(r.events, "up");
    return finished(r.events);
}

/** A `preview --json` with the policy pack that must succeed. */
function planned(p: EngineProject, stack: Stack): PreviewDigest {
    const { run, digest, events } = p.preview(stack, POLICY);
    assert.strictEqual(run.code, 0, `preview failed:\n${out(run)}\npolicy: ${policyViolations(events).join("; ")}`);
    assert.ok(digest, "no JSON from preview");
    assertPolicyRan(events, "preview");
    return digest;
}

/** The fixture's one service, `app`, as its stack file declares it. */
const appOf = (fx: StackFixture) => (fx.config.services as Record<string, { tag: string }>).app;
/** A change of the app service's tag, as a release writes it. */
const withTag = (fx: StackFixture, tag: string): Record<string, unknown> => ({
    services: { ...(fx.config.services as Record<string, unknown>), app: { ...appOf(fx), tag } },
});

describe(`engine tier: the real pulumi CLI and policy pack on ${manifest && !missing ? standInLabel(manifest) : "STAND-IN providers"}`, function () {
    this.timeout(30 * 60_000);

    before(function () {
        // Not built is a failure, never a pass: the tier exists to run the real engine.
        if (missing) throw new Error(missing);
    });

    sit("runs the CLI built from the module proxy at its pinned version", function () {
        const p = new EngineProject();
        try {
            const r = p.pulumi(["version"]);
            assert.strictEqual(r.code, 0, lastLines(r.stderr));
            assert.strictEqual(r.stdout.trim(), manifest!.built.find((b) => b.name === "pulumi")!.version);
        } finally {
            p.dispose();
        }
    });

    describe("config errors reach the user in one line, before any provider runs", function () {
        let project: EngineProject;
        before(function () {
            project = new EngineProject();
            project.initStack("dev", fixtureStack("dev"));
        });
        after(() => project?.dispose());

        sit("refuses a stack value whose type contradicts Pulumi.yaml, naming the key", function () {
            project.writeConfig("dev", withChanges(fixtureStack("dev"), { serverCount: "two" }));
            const r = project.pulumi(["preview", "--stack", "dev"]);
            assert.notStrictEqual(r.code, 0, "preview accepted serverCount: two");
            // The CLI's own check of Pulumi.yaml's declared types, before the program runs.
            assert.match(`${r.stdout}\n${r.stderr}`, /configuration key 'serverCount' must be of type 'integer'/);
        });

        sit("reports the program's own config error in one line, without a stack trace", function () {
            project.writeConfig("dev", withChanges(fixtureStack("dev"), { dbPoolMode: "bogus" }));
            const r = project.pulumi(["preview", "--stack", "dev"]);
            const text = `${r.stdout}\n${r.stderr}`;
            assert.notStrictEqual(r.code, 0, "preview accepted dbPoolMode: bogus");
            const lines = text.split("\n").filter((l) => l.includes("dbPoolMode"));
            assert.ok(
                lines.some(
                    (l) =>
                        l.includes('platform:dbPoolMode: "bogus" is not valid') &&
                        l.includes("allowed: transaction, session, statement"),
                ),
                `no one-line error naming the key, value and allowed values in:\n${text}`,
            );
            assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace reached the user:\n${text}`);
        });

        sit(
            "the CLI refuses a key Pulumi.yaml declares secret when it is stored in plain text, without printing it",
            function () {
                const fx = fixtureStack("dev");
                const { tailscaleApiKey, ...others } = fx.secrets;
                project.writeConfig("dev", { config: { ...fx.config, tailscaleApiKey }, secrets: others });
                const r = project.pulumi(["preview", "--stack", "dev"]);
                const text = `${r.stdout}\n${r.stderr}`;
                assert.notStrictEqual(r.code, 0, "a plain-text API key was accepted");
                assert.match(text, /configuration key 'tailscaleApiKey' must be encrypted/);
                assert.ok(!text.includes(tailscaleApiKey), "the secret's value was printed");
            },
        );

        sit(
            "the program refuses a registry token stored in plain text: the host hands it the secret keys",
            function () {
                // ghcrToken is optional, so Pulumi.yaml cannot declare it secret; the program's own
                // check needs the secret keys the CLI hands the language host.
                const fx = fixtureStack("dev");
                const { ghcrToken, ...others } = fx.secrets;
                assert.ok(ghcrToken, "the fixture team pulls private images, so it needs a registry token");
                project.writeConfig("dev", { config: { ...fx.config, ghcrToken }, secrets: others });
                const r = project.pulumi(["preview", "--stack", "dev"]);
                const text = `${r.stdout}\n${r.stderr}`;
                assert.notStrictEqual(r.code, 0, "a plain-text registry token was accepted");
                assert.match(text, /platform:ghcrToken: is stored in plain text but must be a secret/);
                assert.ok(!text.includes(ghcrToken), "the token's value was printed");
            },
        );
    });

    for (const stack of STACKS) {
        describe(`${stack}: applied from empty state`, function () {
            const fx = fixtureStack(stack);
            let p: EngineProject;
            let up = false;
            before(function () {
                p = new EngineProject();
                p.initStack(stack, fx);
            });
            after(() => p?.dispose());
            // Every later case builds on the first up's state: without it each fails at once
            // (a failure, never a skip) instead of spending minutes on a stack that is not there.
            const onState = (title: string, fn: (this: Mocha.Context) => void) =>
                sit(title, function () {
                    if (!up) throw new Error(`${stack}'s first up failed (see above): no state to change`);
                    fn.call(this);
                });

            sit("up creates every resource, in dependency order, with the policy pack passing", function () {
                const steps = applied(p.up(stack, POLICY));
                up = true;
                assert.deepStrictEqual(
                    [...new Set(steps.map((s) => s.op))].filter((o) => o !== "create"),
                    [],
                    "an empty stack did something other than create",
                );
                const droplets = steps.filter((s) => s.type === TYPES.droplet);
                assert.strictEqual(droplets.length, (fx.config.serverCount as number | undefined) ?? 1);
                // The cut-over of a service runs after its app container exists.
                for (const cut of steps.filter((s) => /-cutover$/.test(nameOf(s.urn)))) {
                    const app = steps.findIndex(
                        (s) =>
                            s.urn ===
                            cut.urn
                                .replace(/-cutover$/, "-app")
                                .replace("command:local:Command", "docker:index/container:Container"),
                    );
                    assert.ok(
                        app >= 0 && app < steps.indexOf(cut),
                        `${nameOf(cut.urn)} ran before its app container was created`,
                    );
                }
            });

            onState("a preview right after the up plans no change (policy pack on)", function () {
                const d = planned(p, stack);
                assert.deepStrictEqual(
                    changed(d).map((s) => `${s.op} ${nameOf(s.urn)} ${JSON.stringify(s.detailedDiff ?? {})}`),
                    [],
                );
            });

            if (stack === "dev") {
                onState(
                    "a second up of the unchanged stack passes the policy pack (issue 23 #1: secret outputs are not literals)",
                    function () {
                        const steps = applied(p.up(stack, POLICY));
                        assert.deepStrictEqual(
                            steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${nameOf(s.urn)}`),
                            [],
                        );
                    },
                );

                onState(
                    "every app container keeps the name the provider gave it across updates, so the cut-over's APP_CONTAINER is stable (issue 23 #6)",
                    function () {
                        // Auto-named on purpose: a release creates the new container beside the old
                        // one, which an unchanging explicit name would forbid (the name would have to
                        // hash every input, secret env included). The bridge records an auto-name
                        // in __defaults and keeps it on every update (stand-in: tools/engine/plugins/standin).
                        const names = () =>
                            Object.fromEntries(
                                p
                                    .exportState(stack)
                                    .filter((r) => r.type === TYPES.container && isApp(r.urn))
                                    .map((r) => [
                                        nameOf(r.urn),
                                        {
                                            name: String(r.outputs?.name ?? r.inputs?.name ?? ""),
                                            auto: ((r.inputs?.__defaults as string[] | undefined) ?? []).includes(
                                                "name",
                                            ),
                                        },
                                    ]),
                            );
                        const before = names();
                        assert.ok(Object.keys(before).length > 0, "no app container in state");
                        for (const [urn, n] of Object.entries(before))
                            assert.ok(n.name !== "" && n.auto, `${urn}: ${JSON.stringify(n)}`);
                        applied(p.up(stack, POLICY));
                        assert.deepStrictEqual(names(), before, "an up with nothing to change renames nothing");
                    },
                );

                onState(
                    "a new server image on the one-server stack: what the engine replaces, and in which order (issue 23 #5)",
                    function () {
                        p.writeConfig(stack, withChanges(fx, { serverImage: "ubuntu-22-04-x64" }));
                        const { run, digest: d } = p.preview(stack, [...POLICY, "--show-replacement-steps"]);
                        p.writeConfig(stack, fx);
                        assert.strictEqual(run.code, 0, `preview failed:\n${out(run)}`);
                        assert.ok(
                            stepsOf(d!, TYPES.droplet).some((s) => s.op === "replace"),
                            "the droplet is not replaced",
                        );
                        const steps = d!.steps ?? [];
                        const reasons =
                            steps.find((s) => typeOf(s) === TYPES.droplet && s.replaceReasons)?.replaceReasons ?? [];
                        assert.ok(reasons.includes("image"), `droplet replace reasons: ${reasons}`);
                        // Deleted before its replacement exists: the step order of the plan.
                        const firstCreate = (urn: string) =>
                            steps.findIndex((s) => s.urn === urn && s.op === "create-replacement");
                        const deletedFirst = steps
                            .filter((s, i) => s.op === "delete-replaced" && firstCreate(s.urn) > i)
                            .map((s) => nameOf(s.urn));
                        const replaced = steps.filter((s) => s.op === "create-replacement");
                        process.stdout.write(
                            `      observed: a server image change replaces ${replaced.length} resources; ${deletedFirst.length} are deleted before their replacement exists (${deletedFirst.join(", ")})\n`,
                        );
                    },
                );
            }

            if (stack === "staging") {
                let current = fx;
                /** Previews the change (policy pack on), applies it, and returns both. */
                function change(changes: Record<string, unknown>): {
                    plan: PreviewDigest;
                    steps: { op: string; urn: string; type: string }[];
                    events: EngineEvent[];
                } {
                    current = withChanges(current, changes);
                    p.writeConfig(stack, current);
                    const plan = planned(p, stack);
                    const r = p.up(stack, POLICY);
                    return { plan, steps: applied(r), events: r.events };
                }

                function assertCutOverOrder(steps: { op: string; urn: string; type: string }[]): void {
                    // The plan's promise: the new app container, then the cut-over, then the old one goes.
                    const apps = [
                        ...new Set(steps.filter((s) => s.type === TYPES.container && isApp(s.urn)).map((s) => s.urn)),
                    ];
                    assert.ok(apps.length > 0, "no app container was replaced");
                    for (const urn of apps) {
                        const created = steps.findIndex((s) => s.urn === urn && s.op === "create-replacement");
                        const deleted = steps.findIndex((s) => s.urn === urn && s.op === "delete-replaced");
                        const cut = steps.findIndex(
                            (s) =>
                                s.urn ===
                                    urn
                                        .replace("docker:index/container:Container", "command:local:Command")
                                        .replace(/-app$/, "-cutover") && s.op !== "delete-replaced",
                        );
                        assert.ok(
                            created >= 0 && cut > created && deleted > cut,
                            `${nameOf(urn)}: create ${created}, cut-over ${cut}, delete ${deleted} (want create < cut-over < delete)`,
                        );
                    }
                }

                onState(
                    "a new release replaces the app containers create-before-delete, with the cut-over between",
                    function () {
                        const { plan, steps } = change(withTag(current, "1.5.0"));
                        const apps = stepsOf(plan, TYPES.container).filter((s) => isApp(s.urn));
                        assert.deepStrictEqual(
                            apps.map((s) => s.op),
                            apps.map(() => "replace"),
                        );
                        assert.ok(
                            apps.every((s) => s.replaceReasons?.includes("image")),
                            `reasons: ${apps.map((s) => s.replaceReasons).join(" | ")}`,
                        );
                        assert.deepStrictEqual(
                            stepsOf(plan, TYPES.droplet)
                                .map((s) => s.op)
                                .filter((o) => o !== "same"),
                            [],
                        );
                        assert.deepStrictEqual(findDestructiveChanges(plan), []);
                        assertCutOverOrder(steps);
                    },
                );

                onState("a rollback to the previous tag is a release like any other", function () {
                    const { steps } = change(withTag(current, appOf(fx).tag));
                    assertCutOverOrder(steps);
                });

                onState("a bigger server size resizes the servers in place, one server at a time", function () {
                    // digitalocean/droplet/resource_droplet.go: `size` is not ForceNew.
                    const { plan, events } = change({ serverSize: "s-2vcpu-4gb" });
                    const droplets = stepsOf(plan, TYPES.droplet);
                    assert.ok(droplets.length >= 2, "the fixture's staging has more than one server");
                    assert.deepStrictEqual(
                        droplets.map((s) => s.op),
                        droplets.map(() => "update"),
                    );
                    assert.ok(droplets.every((s) => Object.keys(s.detailedDiff ?? {}).includes("size")));
                    // Each resize starts only after the previous server's resize finished.
                    const resizes = spans(events, TYPES.droplet, "update");
                    assert.strictEqual(resizes.length, droplets.length);
                    for (let i = 1; i < resizes.length; i++) {
                        assert.ok(
                            resizes[i].start > resizes[i - 1].end,
                            `${nameOf(resizes[i].urn)} started before ${nameOf(resizes[i - 1].urn)} finished`,
                        );
                    }
                });

                onState("one more server creates one droplet and replaces or deletes nothing", function () {
                    const { plan } = change({ serverCount: ((fx.config.serverCount as number | undefined) ?? 1) + 1 });
                    assert.deepStrictEqual(
                        stepsOf(plan, TYPES.droplet)
                            .filter((s) => s.op !== "same")
                            .map((s) => s.op),
                        ["create"],
                    );
                    assert.deepStrictEqual(
                        changed(plan)
                            .filter((s) => s.op !== "create" && s.op !== "update")
                            .map((s) => `${s.op} ${nameOf(s.urn)}`),
                        [],
                    );
                });

                onState("a new API hostname updates the DNS record in place", function () {
                    // digitalocean/domain/resource_record.go: `name` is Required without ForceNew.
                    // The service's route on the API host moves with it, as the team edits both.
                    const domain = String(current.config.domain);
                    const services = current.config.services as Record<string, { routes: string[] }>;
                    const moved = Object.fromEntries(
                        Object.entries(services).map(([n, s]) => [
                            n,
                            {
                                ...s,
                                routes: s.routes.map((r) =>
                                    r.replace(
                                        `${String(current.config.apiHost)}.${domain}/`,
                                        `api2.staging.${domain}/`,
                                    ),
                                ),
                            },
                        ]),
                    );
                    const { plan } = change({ apiHost: "api2.staging", services: moved });
                    const dns = stepsOf(plan, TYPES.dns).filter((s) => s.op !== "same");
                    assert.ok(dns.length > 0, "no DNS record change planned");
                    assert.deepStrictEqual(
                        dns.map((s) => s.op),
                        dns.map(() => "update"),
                    );
                });

                onState(
                    "a bigger connection pool replaces the pool new-first: what it costs the app (issue 23 #5)",
                    function () {
                        // +3 keeps it within half the cluster's connection limit (infra/config/parse/database.ts).
                        const { plan, steps } = change({
                            dbPoolSize: ((fx.config.dbPoolSize as number | undefined) ?? 20) + 3,
                        });
                        const pool = stepsOf(plan, TYPES.pool);
                        assert.deepStrictEqual(
                            pool.map((s) => s.op),
                            ["replace"],
                        );
                        const created = steps.findIndex((s) => s.type === TYPES.pool && s.op === "create-replacement");
                        const deleted = steps.findIndex((s) => s.type === TYPES.pool && s.op === "delete-replaced");
                        assert.ok(created >= 0 && deleted > created, "the pool was not replaced create-before-delete");
                        const apps = stepsOf(plan, TYPES.container).filter((s) => s.op === "replace");
                        const cutovers = changed(plan).filter((s) => /-cutover$/.test(nameOf(s.urn)));
                        process.stdout.write(
                            `      observed: a pool size change replaces ${apps.length} containers (${apps.map((s) => `${nameOf(s.urn)}: ${s.replaceReasons?.join(",")}`).join("; ")}) and runs ${cutovers.length} cut-overs\n`,
                        );
                    },
                );
            }

            if (stack === "prod") {
                onState("destroy stops at the protected database and deletes none of its data", function () {
                    const r = p.pulumi(["destroy", "--stack", stack, "--yes", "--skip-preview"]);
                    assert.notStrictEqual(r.code, 0, "destroy of a stack with protected data succeeded");
                    assert.match(`${r.stdout}\n${r.stderr}`, /protect/);
                    const left = p.exportState(stack).map((s) => s.type);
                    for (const t of [TYPES.cluster, TYPES.db]) assert.ok(left.includes(t), `${t} is gone`);
                });

                onState("lifting protection and renaming the cluster plans a replacement the guard names", function () {
                    p.writeConfig(
                        stack,
                        withChanges(fx, { protectData: false, dbClusterName: "platform-prod-pg-restored" }),
                    );
                    const { run, digest } = p.preview(stack);
                    assert.ok(digest, `no JSON from preview: ${out(run)}`);
                    const findings = findDestructiveChanges(digest);
                    assert.ok(
                        findings.some((f) => f.what === "database cluster" && f.op === "replace"),
                        JSON.stringify(findings),
                    );
                });
            }
        });
    }
});
