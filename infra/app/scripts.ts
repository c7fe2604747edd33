/**
 * The on-server scripts the deploy runs, and the names they share with the program. Kept as
 * files so shellcheck and the Docker lab read exactly what runs.
 */
import * as fs from "fs";
import * as path from "path";
import { SmokeRequest } from "../config/validate";

export type ScriptName = "wait-for-server" | "migrate" | "cutover" | "proxy-config" | "workers-check";

/**
 * A script's text. A `source ... # platform:include` line is replaced by scripts/lib.sh,
 * because a command runs as `bash -c <text>`, with no file next to it to source.
 */
export function script(name: ScriptName): string {
    const read = (file: string) => fs.readFileSync(path.join(__dirname, "scripts", file), "utf8");
    return read(`${name}.sh`).replace(/^source .*# platform:include.*$/m, () => read("lib.sh"));
}

/** Docker network the proxy and app containers share; app containers publish no host ports. */
export const NETWORK = "platform";

/**
 * The network's name on a droplet: per droplet id, because the network is replaced
 * create-before-delete when the id changes (see DROPLET_LABEL), and Docker refuses a second
 * network of the same name on a host; on the first `up` with these labels the old and the
 * new network briefly coexist on the same server.
 */
export function networkName(dropletId: string): string {
    return `${NETWORK}-${dropletId}`;
}
export const PROXY_CONTAINER = "edge-proxy";
/** One probe's timeout (s): a health or smoke answer slower than this does not count. */
export const PROBE_TIMEOUT_SECONDS = 2;
/** How long the cut-over watches the new release through the proxy after the switch (s). */
export const VERIFY_SECONDS = 10;
/** How long a workers' new containers must stay up without a restart (s). */
export const WORKER_STABLE_SECONDS = 15;

/** The `path=status` words the on-server scripts read (SMOKE). */
export function smokeWords(requests: SmokeRequest[]): string {
    return requests.map((r) => `${r.path}=${r.status}`).join(" ");
}

/**
 * What a cut-over asks of a service through the proxy before and after the switch: its
 * configured smoke requests, or, when it has none, each of its route prefixes answering
 * below 500. A release whose health path answers 200 while its pages answer 500 is then
 * caught whether or not the team listed the right smoke request (issue 25).
 */
export function cutoverSmoke(requests: SmokeRequest[], routePaths: string[]): string {
    if (requests.length > 0) return smokeWords(requests);
    return [...new Set(routePaths)].map((p) => `${p}=any`).join(" ");
}

/**
 * The label every docker resource of a server carries: the droplet's id. Labels force a
 * new resource in the docker provider (kreuzwerker/terraform-provider-docker:
 * internal/provider/resource_docker_network.go, resource_docker_volume.go and
 * resource_docker_container.go declare `labels` ForceNew; resource_docker_image.go declares
 * `triggers` ForceNew), so a rebuilt droplet, whose new id changes this value, gets every
 * network, volume, image and container created on it. Without it the state kept listing
 * the old droplet's resources and nothing was created on the new one (the `ssh://` host
 * string stays the same).
 */
export const DROPLET_LABEL = "platform.droplet-id";
