#!/bin/bash
# failover_ext4.sh — failover_kill.sh on a loop-device/ext4 pool: each LUN
# is a 200 MiB file, private extent first, ext4 after it; the owning head
# attaches a loop device and mounts it (in its own mount namespace).  On
# top of the kill checks: exactly one head has each file system mounted.
HA_TEST_MODE=ext4 exec bash "$(dirname "$0")/failover_kill.sh" "$@"
