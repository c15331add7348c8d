/**
 * Runs a rendered Deployment's container with Docker the way the kubelet would constrain it: same
 * user and groups, read-only root filesystem, dropped capabilities, no privilege escalation, the pod's
 * sysctls, memory/CPU limits, emptyDirs and the PVC as fresh directories (the claim owned by fsGroup), the
 * ConfigMap as a read-only directory, env and envFrom (through an --env-file, never the command line).
 * Used to prove the manifests' security settings against the real images, without a cluster.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { K8sObject } from "./render.js"

export interface PodRun {
  /** arguments after `docker run` (without the image's own command) */
  args: string[]
  /** temporary files (env file, ConfigMap directories) to remove afterwards */
  dispose(): void
}

export function memoryToDocker(q: string): string {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q)
  if (!m) throw new Error(`memory quantity ${q} not understood`)
  const unit = { Ki: "k", Mi: "m", Gi: "g" }[m[2] as "Ki" | "Mi" | "Gi"] ?? "b"
  return `${m[1]}${unit}`
}

export function cpuToDocker(q: string | number): string {
  const s = String(q)
  const m = /^(\d+)m$/.exec(s)
  if (m) return String(Number(m[1]) / 1000)
  if (/^\d+(\.\d+)?$/.test(s)) return s
  throw new Error(`cpu quantity ${s} not understood`)
}

type RunOpts = { image: string; name: string; network: string; alias: string; publish?: string }

export function dockerRunArgs(objs: K8sObject[], deployment: string, opts: RunOpts): PodRun {
  const temp = mkdtempSync(join(tmpdir(), `mydocs-podrun-${deployment}-`))
  const dispose = () => rmSync(temp, { recursive: true, force: true })
  try {
    return { args: buildArgs(objs, deployment, opts, temp), dispose }
  } catch (e) {
    dispose()
    throw e
  }
}

function buildArgs(objs: K8sObject[], deployment: string, opts: RunOpts, temp: string): string[] {
  const d = objs.find((o) => o.kind === "Deployment" && o.metadata.name === deployment)
  if (!d) throw new Error(`Deployment ${deployment} not rendered`)
  const pod = d.spec.template.spec
  if ((pod.containers ?? []).length !== 1) throw new Error(`${deployment}: exactly one container expected`)
  const c = pod.containers[0]
  const psc = pod.securityContext ?? {}
  const sc = c.securityContext ?? {}
  chmodSync(temp, 0o755) // the container's non-root user reads the ConfigMap directory below it
  const args = ["-d", "--name", opts.name, "--network", opts.network, "--network-alias", opts.alias]

  const uid = sc.runAsUser ?? psc.runAsUser
  const gid = sc.runAsGroup ?? psc.runAsGroup ?? uid
  if (uid === undefined) throw new Error(`${deployment}: no runAsUser`)
  args.push("--user", `${uid}:${gid}`)
  if (psc.fsGroup !== undefined) args.push("--group-add", String(psc.fsGroup))
  if (sc.readOnlyRootFilesystem) args.push("--read-only")
  if ((sc.capabilities?.drop ?? []).includes("ALL")) args.push("--cap-drop", "ALL")
  for (const cap of sc.capabilities?.add ?? []) args.push("--cap-add", cap)
  if (sc.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges")
  const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type
  if (seccomp !== "RuntimeDefault") throw new Error(`${deployment}: only seccomp RuntimeDefault (Docker's default) is emulated`)
  // Docker lowers ip_unprivileged_port_start to 0 in every container; a Kubernetes runtime need not
  // (containerd 1.x keeps the kernel's 1024). Start from the kernel default so only the pod's own
  // sysctls can let a non-root process bind a low port.
  const sysctls = new Map<string, string>([["net.ipv4.ip_unprivileged_port_start", "1024"]])
  for (const s of psc.sysctls ?? []) sysctls.set(s.name, String(s.value))
  for (const [k, v] of sysctls) args.push("--sysctl", `${k}=${v}`)
  if (c.resources?.limits?.memory) args.push("--memory", memoryToDocker(c.resources.limits.memory))
  if (c.resources?.limits?.cpu) args.push("--cpus", cpuToDocker(c.resources.limits.cpu))

  const volumes = new Map<string, any>((pod.volumes ?? []).map((v: any) => [v.name, v]))
  for (const m of c.volumeMounts ?? []) {
    const v = volumes.get(m.name)
    if (!v) throw new Error(`${deployment}: volumeMount ${m.name} has no volume`)
    if (m.subPath) throw new Error(`${deployment}: subPath mounts are not emulated`)
    // emptyDirs and claims start empty (never a copy of the image's directory): fresh host directories
    if (v.emptyDir) {
      const dir = join(temp, `empty-${m.name}`)
      mkdirSync(dir)
      chmodSync(dir, 0o777) // the kubelet creates emptyDirs world-writable
      args.push("-v", `${dir}:${m.mountPath}`)
    } else if (v.persistentVolumeClaim) {
      // a fresh claim, group-owned by fsGroup and setgid, the way the kubelet prepares it
      const dir = join(temp, `claim-${m.name}`)
      mkdirSync(dir)
      chownSync(dir, 0, psc.fsGroup ?? gid)
      chmodSync(dir, 0o2775)
      args.push("-v", `${dir}:${m.mountPath}`)
    } else if (v.configMap) {
      const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === v.configMap.name)
      if (!cm) throw new Error(`${deployment}: ConfigMap ${v.configMap.name} not rendered`)
      const dir = join(temp, `cm-${m.name}`)
      writeDir(dir, cm.data ?? {})
      args.push("-v", `${dir}:${m.mountPath}:ro`)
    } else {
      throw new Error(`${deployment}: volume ${m.name} of this type is not emulated`)
    }
  }

  const env: string[] = []
  for (const ef of c.envFrom ?? []) {
    const kind = ef.secretRef ? "Secret" : "ConfigMap"
    const ref = ef.secretRef?.name ?? ef.configMapRef?.name
    const src = objs.find((o) => o.kind === kind && o.metadata.name === ref)
    if (!src) throw new Error(`${deployment}: envFrom ${kind} ${ref} not rendered`)
    const data: Record<string, string> = {}
    for (const [k, val] of Object.entries(src.data ?? {})) {
      data[k] = kind === "Secret" ? Buffer.from(String(val), "base64").toString("utf8") : String(val)
    }
    for (const [k, val] of Object.entries(src.stringData ?? {})) data[k] = String(val)
    for (const [k, val] of Object.entries(data)) env.push(`${ef.prefix ?? ""}${k}=${val}`)
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom) throw new Error(`${deployment}: env ${e.name} valueFrom is not emulated`)
    env.push(`${e.name}=${e.value ?? ""}`)
  }
  if (env.some((l) => l.includes("\n"))) throw new Error(`${deployment}: multi-line env values are not emulated`)
  const envFile = join(temp, "env")
  writeFileSync(envFile, env.join("\n") + "\n", { mode: 0o600 })
  args.push("--env-file", envFile)

  if (opts.publish) args.push("-p", opts.publish)
  if (c.command) args.push("--entrypoint", c.command[0])
  args.push(opts.image)
  if (c.command) args.push(...c.command.slice(1))
  if (c.args) args.push(...c.args)
  return args
}

function writeDir(dir: string, files: Record<string, string>): void {
  mkdirSync(dir)
  for (const [name, text] of Object.entries(files)) {
    if (name.includes("/")) throw new Error(`ConfigMap key ${name} is not a file name`)
    writeFileSync(join(dir, name), text, { mode: 0o644 })
  }
  chmodSync(dir, 0o755)
}
