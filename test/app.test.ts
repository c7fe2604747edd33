import * as assert from "assert";
import { isPinnedImage } from "../infra/config/validate";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DROPLET_LABEL, imageRef, plainEnv, script } from "../infra/app";
import { BOOTSTRAP_PROXY_CONFIG, fillUpstreams, upstreamsPlaceholder } from "../infra/app/caddy";
import { shellJoin, shellQuote } from "../infra/shell";
import { RecordedStack } from "../tools/lib/mockrun";
import { fakeDigest } from "../tools/lib/mockstate";
import { waitsFor } from "../tools/lib/whatif";
import { atLeastOne, named, ofType, record, serviceOverride, shellcheck, T, tmpdir } from "./helpers";

const DIGEST = /^ghcr\.io\/acme-shop\/shop@sha256:[a-f0-9]{64}$/;
const byRole = (rec: RecordedStack, role: string) =>
    ofType(rec, T.container).filter((c) =>
        (c.inputs.labels as { label: string; value: string }[]).some(
            (l) => l.label === "platform.role" && l.value === role,
        ),
    );

/** Resource types a release may touch: the containers, their images, and the deploy commands. */
const CONTAINER_SIDE = /^(docker:index\/|command:local:Command$)/;

describe("app: containers", () => {
    for (const stack of ["staging", "prod"]) {
        it(`${stack}: every container runs an image pinned by digest`, async () => {
            const rec = await record(stack);
            const containers = ofType(rec, T.container);
            assert.ok(containers.length >= 3);
            for (const c of containers) assert.match(String(c.inputs.image), /@sha256:[a-f0-9]{64}$/, c.name);
            for (const app of byRole(rec, "app")) assert.match(String(app.inputs.image), DIGEST);
            assert.strictEqual(
                (rec.outputs.release as { services: Record<string, { image: string }> }).services.app.image,
                byRole(rec, "app")[0].inputs.image,
            );
        });

        it(`${stack}: app containers start on the proxy's network, need nothing inside the image, and are replaced create-before-delete`, async () => {
            const rec = await record(stack);
            const apps = byRole(rec, "app");
            assert.strictEqual(apps.length, 2);
            for (const a of apps) {
                // No healthcheck configured: no in-container check (curl/wget need not exist),
                // and no provider wait on a health status that would never come.
                assert.strictEqual(a.inputs.healthcheck, undefined);
                assert.strictEqual(a.inputs.wait, false);
                assert.strictEqual(a.opts.deleteBeforeReplace, false);
                assert.strictEqual(a.inputs.name, undefined, "auto-named, so old and new can run side by side");
                const server = a.name.replace(/-app-app$/, "");
                const network = named(rec, T.dockerNetwork, `${server}-network`);
                assert.strictEqual(
                    network.inputs.name,
                    `platform-${named(rec, T.droplet, server).id}`,
                    "per droplet: no name clash while it is replaced",
                );
                assert.deepStrictEqual(a.inputs.networksAdvanced, [{ name: network.inputs.name }]);
                assert.deepStrictEqual(
                    a.opts.ignoreChanges ?? [],
                    [],
                    "nothing the cut-over does is hidden from Pulumi",
                );
            }
        });

        it(`${stack}: a configured health command runs in exec form and is waited for`, async () => {
            const rec = await record(stack, {
                overrides: serviceOverride(stack, {
                    health: { command: ["/app/healthcheck", "--quick"], path: "/api/v1/health" },
                }),
            });
            for (const a of byRole(rec, "app")) {
                const hc = a.inputs.healthcheck as { tests: string[]; interval: string; retries: number };
                assert.deepStrictEqual(hc.tests, ["CMD", "/app/healthcheck", "--quick"]);
                assert.strictEqual(a.inputs.wait, true);
            }
        });

        it(`${stack}: only the edge proxy publishes host ports, and only 80/443`, async () => {
            const rec = await record(stack);
            for (const c of atLeastOne(ofType(rec, T.container), "container")) {
                const ports = (c.inputs.ports as { external: number }[] | undefined) ?? [];
                if (c.name.endsWith("-proxy"))
                    assert.deepStrictEqual(
                        ports.map((p) => p.external),
                        [80, 443],
                    );
                else assert.deepStrictEqual(ports, [], c.name);
            }
        });

        it(`${stack}: every container rotates its logs and has a restart policy and a memory limit`, async () => {
            const rec = await record(stack);
            for (const c of atLeastOne(ofType(rec, T.container), "container")) {
                assert.strictEqual(c.inputs.logDriver, "json-file");
                assert.deepStrictEqual(c.inputs.logOpts, { "max-size": "10m", "max-file": "5" });
                assert.strictEqual(c.inputs.restart, "unless-stopped");
                assert.ok((c.inputs.memory as number) > 0);
            }
        });

        it(`${stack}: migrations run once, on the first server, before any app or worker starts`, async () => {
            const rec = await record(stack);
            const migrations = ofType(rec, T.command).filter((c) => c.name.endsWith("-migrate"));
            assert.deepStrictEqual(
                migrations.map((m) => m.name),
                [`${stack}-web-1-app-migrate`],
            );
            assert.ok(migrations[0].secretInputs.includes("environment"), "DATABASE_URL stays secret");
            const env = migrations[0].inputs.environment as Record<string, string>;
            assert.strictEqual(env.MIGRATE_ARGS, "npm run db:migrate");
            assert.match(env.DATABASE_URL, /@private-.*:25060\/app\?sslmode=require$/);
            assert.match(env.IMAGE, DIGEST);
            // The restore point is read with a client image pinned by digest, like every image.
            assert.ok(isPinnedImage(env.PG_CLIENT_IMAGE), env.PG_CLIENT_IMAGE);
            for (const c of atLeastOne(
                ofType(rec, T.container).filter(
                    (x) => x.name.startsWith(`${stack}-web-1-`) && !x.name.endsWith("-proxy"),
                ),
                "container on web-1",
            )) {
                assert.ok(c.opts.dependsOn.includes(`${stack}-web-1-app-migrate`), c.name);
            }
        });

        it(`${stack}: rolls across servers one at a time`, async () => {
            const rec = await record(stack);
            // Through the recorded dependency graph, not one resource's list: no container or
            // command of the app on web-2 runs before web-1's cut-over (its image may be pulled
            // early), and web-1 waits for nothing on web-2.
            const cutover1 = `${stack}-web-1-app-cutover`;
            const web2 = rec.resources.filter(
                (x) => x.name.startsWith(`${stack}-web-2-app-`) && (x.type === T.container || x.type === T.command),
            );
            for (const r of atLeastOne(web2, "app container or command on web-2")) {
                assert.ok(waitsFor(rec, r.name, cutover1), `${r.name} waits for ${cutover1}`);
            }
            for (const r of rec.resources.filter((x) => x.name.startsWith(`${stack}-web-2-`)))
                assert.ok(!waitsFor(rec, cutover1, r.name), `${cutover1} waits for ${r.name}`);
            const cut1 = named(rec, T.command, cutover1);
            // Traffic moves only to a started app, through a loaded proxy, after the workers held up.
            for (const before of ["app-app", "app-worker", "app-workers-check", "proxy-config", "network"]) {
                assert.ok(waitsFor(rec, cutover1, `${stack}-web-1-${before}`), `${cutover1} waits for ${before}`);
            }
            assert.deepStrictEqual(cut1.inputs.triggers, [named(rec, T.container, `${stack}-web-1-app-app`).id]);
            const gate = named(rec, T.command, `${stack}-web-1-app-workers-check`);
            assert.ok(waitsFor(rec, gate.name, `${stack}-web-1-app-worker`));
            // The gate checks the container the provider named for this server's worker (the
            // mocks name a container as the provider auto-names it: <name>-<7 chars of its id>).
            const worker1 = named(rec, T.container, `${stack}-web-1-app-worker`);
            assert.strictEqual(
                (gate.inputs.environment as Record<string, string>).WORKERS,
                `<stack>-web-1-app-worker-${worker1.id.slice(0, 7)}`,
            );
            assert.deepStrictEqual(gate.inputs.triggers, [worker1.id]);
            const env = cut1.inputs.environment as Record<string, string>;
            assert.strictEqual(env.APP_PORT, "3000");
            assert.strictEqual(env.HEALTH, "http");
            assert.strictEqual(env.HEALTH_PATH, "/api/v1/health");
            assert.strictEqual(env.SERVICE, "app");
            assert.ok(env.PROXY_CONFIG.includes(JSON.stringify(upstreamsPlaceholder("app"))));
        });

        it(`${stack}: reaches each server's Docker over SSH on the tailnet, after it has booted`, async () => {
            const rec = await record(stack);
            for (const n of [1, 2]) {
                const p = named(rec, "pulumi:providers:docker", `${stack}-web-${n}-docker`);
                assert.strictEqual(p.inputs.host, `ssh://deploy@${stack}-web-${n}`);
                // Provider inputs reach the engine as strings.
                assert.strictEqual(
                    String(p.inputs.disableDockerDaemonCheck),
                    "true",
                    "a first preview plans servers that do not exist yet",
                );
                assert.deepStrictEqual(p.opts.dependsOn, [`${stack}-web-${n}-ready`]);
                const ready = named(rec, T.command, `${stack}-web-${n}-ready`);
                assert.strictEqual((ready.inputs.environment as Record<string, string>).SERVER, `${stack}-web-${n}`);
                assert.deepStrictEqual(ready.inputs.triggers, [Number(named(rec, T.droplet, `${stack}-web-${n}`).id)]);
            }
        });
    }

    it("gives app processes the platform environment, with DATABASE_URL and app secrets only as secrets", async () => {
        const rec = await record("prod");
        const app = named(rec, T.container, "prod-web-1-app-app");
        assert.ok(app.secretInputs.includes("envs"));
        const envs = app.inputs.envs as string[];
        for (const line of [
            "ENVIRONMENT=prod",
            "API_URL=https://api.acme-shop.com",
            "FRONTEND_URL=https://app.acme-shop.com",
            "LOG_LEVEL=info",
            "FEATURE_CHECKOUT_V2=true",
        ]) {
            assert.ok(envs.includes(line), line);
        }
        assert.ok(
            envs.some((e) =>
                /^DATABASE_URL=postgresql:\/\/app:.*@private-pool-.*:25061\/[a-z0-9_-]+\?sslmode=require$/.test(e),
            ),
        );
        assert.ok(
            envs.some((e) => e.startsWith("SESSION_SECRET=")) && envs.some((e) => e.startsWith("STRIPE_API_KEY=")),
        );
        const worker = named(rec, T.container, "prod-web-1-app-worker");
        assert.deepStrictEqual(worker.inputs.command, ["node", "dist/worker.js"]);
        assert.strictEqual(worker.inputs.memory, 512);
        assert.strictEqual(worker.inputs.healthcheck, undefined);
    });

    it("pins a promoted or rolled-back digest instead of resolving the tag", async () => {
        const pinned = `sha256:${"ab".repeat(32)}`;
        const rec = await record("staging", { overrides: serviceOverride("staging", { digest: pinned }) });
        for (const a of byRole(rec, "app")) assert.strictEqual(a.inputs.image, `ghcr.io/acme-shop/shop@${pinned}`);
        assert.strictEqual(
            (rec.outputs.release as { services: Record<string, { digest: string }> }).services.app.digest,
            pinned,
        );
    });

    it("resolves the configured tag to its registry digest", async () => {
        const rec = await record("staging");
        assert.strictEqual(
            (rec.outputs.release as { services: Record<string, { digest: string }> }).services.app.digest,
            fakeDigest("ghcr.io/acme-shop/shop:1.4.2"),
        );
    });
});

const proxyConfigOf = (rec: RecordedStack, stack: string) =>
    (named(rec, T.command, `${stack}-web-1-proxy-config`).inputs.environment as Record<string, string>).PROXY_CONFIG;

describe("app: the edge proxy", () => {
    it("routes to the release the cut-over records, prefers the first, and never ejects on a status code", async () => {
        const rec = await record("prod");
        const cfg = JSON.parse(proxyConfigOf(rec, "prod"));
        const server = cfg.apps.http.servers.edge;
        assert.deepStrictEqual(server.listen, [":80"]);
        // The one service answers both hosts; the load balancer's check reaches it on any host.
        assert.deepStrictEqual(
            server.routes.map((r: { match?: unknown }) => r.match),
            [
                [{ host: ["api.acme-shop.com"] }],
                [{ host: ["app.acme-shop.com"] }],
                [{ path: ["/api/v1/health"] }],
                undefined,
            ],
        );
        assert.deepStrictEqual(server.routes[3].handle, [{ handler: "static_response", status_code: 404 }]);
        const rp = server.routes[0].handle[0];
        assert.strictEqual(
            rp.upstreams,
            upstreamsPlaceholder("app"),
            "filled on the server from the cut-over's record",
        );
        assert.strictEqual(rp.load_balancing.selection_policy.policy, "first");
        assert.strictEqual(rp.load_balancing.try_duration, "5s");
        assert.strictEqual(rp.health_checks.active, undefined, "one failed probe must not take the only release out");
        assert.strictEqual(
            rp.health_checks.passive.unhealthy_status,
            undefined,
            "a 503 from the app is not a dead upstream",
        );
        assert.deepStrictEqual(rp.trusted_proxies, ["10.30.0.0/20"]);
        assert.deepStrictEqual(cfg.apps.http.servers["verify-app"].listen, ["127.0.0.1:2080"]);
        // The scripts verify through exactly the listener the config declares.
        const cut = named(rec, T.command, "prod-web-1-app-cutover").inputs.environment as Record<string, string>;
        assert.strictEqual(cut.VERIFY_URL, `http://${cfg.apps.http.servers["verify-app"].listen[0]}`);
        const reload = named(rec, T.command, "prod-web-1-proxy-config").inputs.environment as Record<string, string>;
        assert.strictEqual(
            reload.CHECKS,
            `app|http://${cfg.apps.http.servers["verify-app"].listen[0]}/api/v1/health|200`,
        );
    });

    it("(issue 9) upgrades the proxy with current inputs: no ignoreChanges, a constant bootstrap file, a reload on every new proxy", async () => {
        const rec = await record("prod");
        const proxy = named(rec, T.container, "prod-web-1-proxy");
        assert.deepStrictEqual(
            proxy.opts.ignoreChanges ?? [],
            [],
            "the engine would recreate it from the OLD image and config",
        );
        assert.strictEqual(proxy.opts.deleteBeforeReplace, true, "it owns host ports");
        assert.deepStrictEqual(proxy.inputs.uploads, [
            { file: "/etc/caddy/caddy.json", content: BOOTSTRAP_PROXY_CONFIG },
        ]);
        const reload = named(rec, T.command, "prod-web-1-proxy-config");
        assert.deepStrictEqual(reload.inputs.triggers, [proxyConfigOf(rec, "prod"), proxy.id]);

        const image = `caddy:2.10.2-alpine@sha256:${"cd".repeat(32)}`;
        const upgraded = await record("prod", { overrides: { proxyImage: image } });
        for (const n of [1, 2]) {
            const p = named(upgraded, T.container, `prod-web-${n}-proxy`);
            assert.strictEqual(p.inputs.image, image);
            assert.deepStrictEqual(p.inputs.uploads, proxy.inputs.uploads, "only the image changes");
        }
        // One server at a time: web-2's proxy waits until web-1's serves again.
        for (const served of ["prod-web-1-proxy-config", "prod-web-1-app-cutover"])
            assert.ok(waitsFor(upgraded, "prod-web-2-proxy", served), served);
        assert.ok(!waitsFor(upgraded, "prod-web-1-proxy", "prod-web-2-proxy"));
    });

    it("a routine deploy never touches the proxy", async () => {
        const a = await record("prod");
        const b = await record("prod", { overrides: serviceOverride("prod", { tag: "1.4.1" }) });
        for (const n of [1, 2]) {
            for (const [type, role] of [
                [T.container, "proxy"],
                [T.command, "proxy-config"],
            ] as const) {
                const before = named(a, type, `prod-web-${n}-${role}`);
                const after = named(b, type, `prod-web-${n}-${role}`);
                assert.deepStrictEqual(after.inputs, before.inputs, role);
            }
        }
    });

    it("(issue 9) ties every docker resource of a server to its droplet's id, in a field that forces a new resource", async () => {
        const rec = await record("prod");
        for (const n of [1, 2]) {
            const droplet = String(named(rec, T.droplet, `prod-web-${n}`).id);
            const mine = rec.resources.filter(
                (r) => r.name.startsWith(`prod-web-${n}-`) && r.type.startsWith("docker:index/"),
            );
            assert.ok(mine.length >= 7, mine.map((r) => r.name).join(", "));
            for (const r of mine) {
                if (r.type === T.remoteImage) {
                    assert.deepStrictEqual(r.inputs.triggers, { dropletId: droplet }, r.name);
                } else {
                    const labels = r.inputs.labels as { label: string; value: string }[];
                    assert.ok(
                        labels.some((l) => l.label === DROPLET_LABEL && l.value === droplet),
                        `${r.name}: ${JSON.stringify(labels)}`,
                    );
                }
            }
        }
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: the real caddy accepts the proxy config the program generates`, async () => {
            const rec = await record(stack);
            const dir = tmpdir("caddy-validate-");
            const file = path.join(dir, "caddy.json");
            fs.writeFileSync(file, fillUpstreams(proxyConfigOf(rec, stack), { app: ["app-1:3000", "app-0:3000"] }));
            const res = spawnSync("caddy", ["validate", "--config", file], {
                encoding: "utf8",
                env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
            });
            assert.strictEqual(res.status, 0, `${res.stdout}${res.stderr}`);
            assert.match(res.stdout + res.stderr, /Valid configuration/);
        });
    }

    it("with one server, owns 80 and 443 and gets certificates for the stack's names", async () => {
        const rec = await record("dev");
        const cfg = JSON.parse(proxyConfigOf(rec, "dev"));
        assert.deepStrictEqual(cfg.apps.http.servers.edge.listen, [":443", ":80"]);
        assert.deepStrictEqual(
            cfg.apps.http.servers.edge.routes.slice(0, 2).map((r: { match: unknown }) => r.match),
            [[{ host: ["api.dev.acme-shop.com"] }], [{ host: ["dev.acme-shop.com"] }]],
        );
        assert.strictEqual(cfg.apps.http.servers.edge.automatic_https, undefined);
        assert.strictEqual(cfg.apps.tls.automation.policies[0].issuers[0].email, "ops@acme-shop.com");
    });
});

describe("app: a rollback is just a deploy", () => {
    const changed = (a: RecordedStack, b: RecordedStack) => {
        const before = new Map(a.resources.map((r) => [`${r.type}::${r.name}`, r]));
        const diff: string[] = [];
        for (const r of b.resources) {
            const old = before.get(`${r.type}::${r.name}`);
            if (
                !old ||
                JSON.stringify(old.inputs) !== JSON.stringify(r.inputs) ||
                JSON.stringify(old.opts) !== JSON.stringify(r.opts)
            )
                diff.push(`${r.type}::${r.name}`);
        }
        for (const k of before.keys()) if (!b.resources.some((r) => `${r.type}::${r.name}` === k)) diff.push(k);
        return diff;
    };

    for (const stack of ["staging", "prod"]) {
        it(`${stack}: changing only a service's tag changes only container-side resources`, async () => {
            const a = await record(stack);
            const b = await record(stack, { overrides: serviceOverride(stack, { tag: "1.4.1" }) });
            assert.strictEqual(a.resources.length, b.resources.length);
            const diff = changed(a, b);
            assert.ok(diff.length > 0);
            const outside = diff.filter((k) => !CONTAINER_SIDE.test(k.split("::")[0]));
            assert.deepStrictEqual(
                outside,
                [],
                "droplets, database, firewall, DNS, Tailscale and GitHub stay as they are",
            );
            assert.ok(!diff.some((k) => k.endsWith("-ready")), "no server readiness re-check");
            for (const n of [1, 2]) {
                for (const part of ["image", "app", "worker", "cutover"])
                    assert.ok(
                        diff.includes(
                            `${part === "cutover" ? T.command : part === "image" ? T.remoteImage : T.container}::${stack}-web-${n}-app-${part}`,
                        ),
                        `${part} on web-${n}`,
                    );
            }
            assert.ok(diff.includes(`${T.command}::${stack}-web-1-app-migrate`));
            assert.ok(
                !diff.some((k) => /-proxy(-config|-image)?$/.test(k)),
                "the edge proxy keeps running with the same config",
            );
        });
    }

    it("deploying the same tag again changes nothing", async () => {
        const a = await record("staging");
        const b = await record("staging", { overrides: serviceOverride("staging", { tag: "1.4.2" }) });
        assert.deepStrictEqual(changed(a, b), []);
    });
});

describe("app: shell sent to servers", () => {
    for (const name of ["wait-for-server", "migrate", "cutover", "proxy-config", "workers-check"] as const) {
        it(`${name}.sh passes shellcheck`, () => {
            assert.strictEqual(shellcheck(script(name)), "");
        });
    }

    it("quotes migration argv so config cannot inject shell", () => {
        assert.strictEqual(shellJoin(["npm", "run", "db:migrate"]), "npm run db:migrate");
        assert.strictEqual(shellQuote("a b;rm -rf /"), "'a b;rm -rf /'");
        assert.strictEqual(shellQuote("it's"), "'it'\\''s'");
    });

    it("refuses an image reference that is not a sha256 digest", () => {
        assert.throws(() => imageRef("ghcr.io/a/b", "latest"), /not a sha256 digest/);
        assert.strictEqual(imageRef("ghcr.io/a/b", `sha256:${"0".repeat(64)}`), `ghcr.io/a/b@sha256:${"0".repeat(64)}`);
    });

    it("builds the plain environment in a stable order, without DATABASE_URL", () => {
        const env = plainEnv({
            environment: "dev",
            apiUrl: "a",
            frontendUrl: "f",
            publicUrl: "p",
            logLevel: "debug",
            port: 3000,
            extra: { Z: "1", A: "2" },
        });
        assert.deepStrictEqual(env, [
            "ENVIRONMENT=dev",
            "API_URL=a",
            "FRONTEND_URL=f",
            "PUBLIC_URL=p",
            "LOG_LEVEL=debug",
            "PORT=3000",
            "A=2",
            "Z=1",
        ]);
    });
});
