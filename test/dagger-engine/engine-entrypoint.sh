#!/bin/sh
# Entrypoint of the engine image scripts/dagger-engine.sh assembles. Without --privileged (refused on these
# VMs) Docker mounts /sys and the cgroup hierarchies read-only: remount them read-write so runc can create
# cgroups for every exec (cgroup v1 and v2 alike). Then raise the open-file limit where allowed and run the
# engine under tini, as the official image does.
set -eu
mount -o remount,rw /sys 2>/dev/null || true
if [ -d /sys/fs/cgroup ]; then
  mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
  for d in /sys/fs/cgroup/*; do
    [ -d "$d" ] && mount -o remount,bind,rw "$d" 2>/dev/null || true
  done
fi
# cgroup v2: move ourselves into a child group so the engine may enable controllers for its children
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
fi
ulimit -n 1048576 2>/dev/null || true
exec tini -- dagger-engine "$@"
