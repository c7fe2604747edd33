/**
 * What a secret looks like, in one place: names that say "secret", and the shapes of
 * well-known credentials. The config check refuses them in plain env; the policy pack
 * refuses them in GitHub variables, user data and plain resource inputs.
 */

/** Names that say "secret" (STRIPE_KEY, DB_PASSWORD, DATABASE_URL, ...). */
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|DSN|WEBHOOK|PRIVATE|DATABASE_URL|(^|_)(API|ACCESS|AUTH|SIGNING|ENCRYPTION|MASTER|LICENSE)?_?KEY$)/;
/** PUBLIC_/PUBLISHABLE_ keys are meant to be public. */
const PUBLIC_NAME = /(^|_)(PUBLIC|PUBLISHABLE)(_|$)/;

export function isSecretName(name: string): boolean {
    return SECRET_NAME.test(name) && !PUBLIC_NAME.test(name);
}

export interface CredentialShape {
    /** What it is, with its article: "a GitHub token". */
    what: string;
    re: RegExp;
    /**
     * Single-use and short-lived by design (a Tailscale auth key in a droplet's first-boot
     * user data): the policy pack allows it where it must travel; plain env never.
     */
    oneTime?: boolean;
}

/** Well-known credential formats, by issuer, found anywhere in a text. */
export const CREDENTIAL_SHAPES: readonly CredentialShape[] = [
    { what: "a Stripe secret key", re: /\b(sk|rk)_(live|test)_[A-Za-z0-9]{8,}/ },
    { what: "a Stripe webhook secret", re: /\bwhsec_[A-Za-z0-9]{8,}/ },
    { what: "a GitHub token", re: /\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}/ },
    { what: "a Slack token", re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
    { what: "a Slack webhook URL", re: /hooks\.slack\.com\/services\/[A-Za-z0-9]/ },
    { what: "an AWS access key id", re: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/ },
    { what: "a DigitalOcean token", re: /\bdo[opr]_v1_[a-f0-9]{20,}/ },
    { what: "a Tailscale auth key", re: /\btskey-auth-[A-Za-z0-9-]{6,}/, oneTime: true },
    { what: "a Tailscale key", re: /\btskey-(?!auth-)[a-z]+-[A-Za-z0-9-]{8,}/ },
    { what: "a SendGrid key", re: /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/ },
    { what: "a private key", re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
    { what: "a URL with a password in it", re: /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@"]+:[^/\s@"]+@/ },
    { what: "a JSON Web Token", re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./ },
];

/** The credentials a text contains, by what they are; `allowOneTime` skips single-use keys. */
export function credentialsIn(text: string, allowOneTime = false): string[] {
    return CREDENTIAL_SHAPES.filter((c) => !(allowOneTime && c.oneTime) && c.re.test(text)).map((c) => c.what);
}
