/** The secrets the stack's values ask for (requiredSecrets), each set and encrypted. */
import { ConfigSource, ParseContext, q, Reader, setSecretHint } from "../reader";
import { RequiredSecret, requiredSecrets } from "../secrets";
import { ConfigError } from "../validate";

/** One line for a required secret that is not set: the key (and entry), what asks for it, the command that prompts for it. */
export function secretNotSet(s: RequiredSecret, stack: string): ConfigError {
    const at = s.entry === undefined ? q(s.key) : `${q(s.key)}.${s.entry}`;
    return new ConfigError(
        at,
        `${at}: secret is not set${s.because ? ` but ${s.because}` : ""} — run: ${setSecretHint(s.key, stack, s.entry)} (it prompts for ${s.prompt})`,
    );
}

export function checkRequiredSecrets(r: Reader, src: ConfigSource, ctx: ParseContext): void {
    const held = r.secretEntries("appSecrets");
    for (const s of requiredSecrets((k) => src.get(k))) {
        const present = s.entry === undefined ? r.secretPresent(s.key) : held.includes(s.entry);
        if (!present) throw secretNotSet(s, ctx.stack);
    }
}
