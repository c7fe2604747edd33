/**
 * The fake provider behind the offline run: ids, addresses and outputs the program reads,
 * and the invokes it calls, all deterministic so two runs compare equal where their
 * programs are equal.
 */
import * as crypto from "crypto";
import { TYPES } from "../../infra/lifecycle/types";

/** Deterministic fake digest for an image reference, so two tags get two digests. */
export function fakeDigest(ref: string): string {
    return `sha256:${crypto.createHash("sha256").update(ref).digest("hex")}`;
}

export function fakeId(type: string, name: string): string {
    const hex = crypto.createHash("sha1").update(`${type}::${name}`).digest("hex").slice(0, 12);
    // Droplet ids are numbers in DigitalOcean's API, and the program converts them.
    return type === TYPES.droplet ? String(parseInt(hex.slice(0, 8), 16)) : hex;
}

function fakeIp(name: string, base: string): string {
    const h = crypto.createHash("sha1").update(name).digest();
    return `${base}.${(h[0] % 250) + 2}`;
}

/** Provider outputs the program reads, filled with plausible values. */
export function mockState(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    id: string,
): Record<string, unknown> {
    switch (type) {
        case TYPES.droplet:
            return {
                ...inputs,
                ipv4Address: fakeIp(name, "203.0.113"),
                ipv4AddressPrivate: fakeIp(name, "10.0.0"),
                dropletUrn: `do:droplet:${id}`,
            };
        case TYPES.cluster:
            return {
                ...inputs,
                privateHost: `private-${inputs.name}.db.ondigitalocean.com`,
                host: `${inputs.name}.db.ondigitalocean.com`,
                port: 25060,
                clusterUrn: `do:dbaas:${id}`,
                password: "mock-admin-password",
            };
        case TYPES.pool:
            return {
                ...inputs,
                privateHost: `private-pool-${id}.db.ondigitalocean.com`,
                port: 25061,
                password: "mock-pool-password",
            };
        case TYPES.dbUser:
            return { ...inputs, password: "mock-user-password" };
        case TYPES.lb:
            return { ...inputs, ip: fakeIp(name, "198.51.100"), loadBalancerUrn: `do:loadbalancer:${id}` };
        case TYPES.reservedIp:
            return { ...inputs, ipAddress: fakeIp(name, "192.0.2"), reservedIpUrn: `do:reservedip:${id}` };
        case TYPES.tailnetKey:
            return { ...inputs, key: `tskey-auth-mock-${id}` };
        case TYPES.container:
            return { ...inputs, name: inputs.name ?? `${name}-${id.slice(0, 7)}` };
        default:
            return { ...inputs };
    }
}

export function mockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (token) {
        case "docker:index/getRegistryImage:getRegistryImage":
            return { name: inputs.name, sha256Digest: fakeDigest(String(inputs.name)) };
        case "digitalocean:index/getDatabaseUser:getDatabaseUser":
            return { ...inputs, password: "mock-restored-user-password" };
        case "github:index/getUser:getUser":
            return { ...inputs, id: String(parseInt(fakeId("user", String(inputs.username)).slice(0, 6), 16)) };
        case "github:index/getTeam:getTeam":
            return { ...inputs, id: String(parseInt(fakeId("team", String(inputs.slug)).slice(0, 6), 16)) };
        default:
            return inputs;
    }
}
