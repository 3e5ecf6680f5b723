// Image reference syntax (distribution/reference): [domain[:port]/]path[:tag][@algorithm:hex], lower-case path.

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);
const MAX_NAME_LENGTH = 255;

/** The problem with an image reference, in upstream's words, or undefined when it parses. */
export function imageReferenceProblem(image: string): string | undefined {
  const match = REFERENCE.exec(image);
  if (!match) {
    const lowered = REFERENCE.exec(image.toLowerCase());
    if (image !== "" && lowered) {
      return `couldn't parse image reference "${image}": invalid reference format: repository name must be lowercase`;
    }
    return `couldn't parse image reference "${image}": invalid reference format`;
  }
  if ((match[1] as string).length > MAX_NAME_LENGTH) {
    return `couldn't parse image reference "${image}": repository name must not be more than ${MAX_NAME_LENGTH} characters`;
  }
  return undefined;
}
