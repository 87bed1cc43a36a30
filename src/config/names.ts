// What a name (router, port, rule, trigger) may look like.
export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
export const NAME_HINT = 'letters, digits, "_", "-", "." — up to 32';
