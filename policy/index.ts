/**
 * The CrossGuard policy pack: `pulumi preview --policy-pack policy`. It only adapts the
 * engine's view of resources to the pure rules in ./rules, which the offline plan runs too.
 */
import {
    PolicyPack,
    PolicyResource,
    ReportViolation,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { RULES, stackOfUrn, Subject } from "./rules";

function subject(
    r:
        | PolicyResource
        | { type: string; name: string; urn: string; props: Record<string, unknown>; opts: { protect?: boolean } },
): Subject {
    const deps =
        "propertyDependencies" in r
            ? Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, v]) => [k, v.map((d) => d.name)]))
            : undefined;
    return {
        type: r.type,
        name: r.name,
        stack: stackOfUrn(r.urn),
        props: r.props,
        protect: r.opts.protect === true,
        id: typeof r.props.id === "string" ? r.props.id : undefined,
        propertyDependencies: deps,
    };
}

const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = RULES.map((rule) =>
    rule.kind === "resource"
        ? {
              name: rule.name,
              description: rule.description,
              enforcementLevel: rule.enforcementLevel,
              severity: rule.severity,
              validateResource: (args, report: ReportViolation) => {
                  if (!rule.resourceTypes.includes(args.type)) return;
                  for (const message of rule.validate(subject(args))) report(message);
              },
          }
        : {
              name: rule.name,
              description: rule.description,
              enforcementLevel: rule.enforcementLevel,
              severity: rule.severity,
              validateStack: (args, report: ReportViolation) => {
                  const subjects = args.resources.map(subject);
                  const stack = subjects.find((s) => s.stack)?.stack ?? "";
                  for (const v of rule.validateStack(subjects, stack)) {
                      report(v.message, args.resources.find((r) => r.name === v.resource)?.urn);
                  }
              },
          },
);

new PolicyPack("platform-guardrails", { policies });
