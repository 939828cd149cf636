#!/bin/sh
# The test image of acme/patch-config (an `env` action): it reads its inputs from the variables
# of their names, records what it saw, and writes its outputs to $KUBERNAUT_OUTPUTS.
set -eu
{
  printf 'TARGET_NAME=%s\n' "$TARGET_NAME"
  printf 'MODE=%s\n' "$MODE"
  printf 'REPLICAS=%s\n' "$REPLICAS"
  printf 'RATIO=%s\n' "$RATIO"
  printf 'DRY_RUN=%s\n' "$DRY_RUN"
  printf 'LABELS=%s\n' "$LABELS"
  printf 'GIT_PASSWORD=%s\n' "${GIT_PASSWORD-<unset>}"
  printf 'ACTION_INPUTS=%s\n' "${ACTION_INPUTS-<unset>}"
  printf 'ARGS=%s\n' "$*"
} > "$SEEN_DIR/$KUBERNAUT_STEP.env"
echo "patched $TARGET_NAME"
printf '{"patched": true, "revision": "%s-r%s"}' "$TARGET_NAME" "$REPLICAS" > "$KUBERNAUT_OUTPUTS"
