/**
 * Policies over rendered manifests. Each function returns the problems it finds (one readable line
 * each, naming the object); an empty list means the manifests comply. Pure functions: the tests feed
 * them real renders and deliberately broken copies.
 */
import type { ConfigVariable, K8sObject } from "./render.js"

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"])

type Container = Record<string, any> & { name: string }
type PodSpec = Record<string, any>

export interface Workload {
  obj: K8sObject
  id: string
  namespace: string
  podLabels: Record<string, string>
  pod: PodSpec
}

const ns = (o: K8sObject) => o.metadata.namespace ?? "default"
const id = (o: K8sObject) => `${o.kind} ${ns(o)}/${o.metadata.name}`

export function workloads(objs: K8sObject[]): Workload[] {
  const out: Workload[] = []
  for (const o of objs) {
    if (o.kind === "Pod") {
      out.push({ obj: o, id: id(o), namespace: ns(o), podLabels: o.metadata.labels ?? {}, pod: o.spec ?? {} })
    } else if (WORKLOAD_KINDS.has(o.kind)) {
      const t = o.spec?.template ?? {}
      out.push({ obj: o, id: id(o), namespace: ns(o), podLabels: t.metadata?.labels ?? {}, pod: t.spec ?? {} })
    }
  }
  return out
}

function allContainers(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])]
}

/** A label selector (matchLabels + matchExpressions) against a label set. */
export function selectorMatches(sel: Record<string, any> | undefined, labels: Record<string, string>): boolean {
  if (!sel) return false
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key)
    const vals: string[] = e.values ?? []
    if (e.operator === "In" && !(has && vals.includes(labels[e.key]!))) return false
    if (e.operator === "NotIn" && has && vals.includes(labels[e.key]!)) return false
    if (e.operator === "Exists" && !has) return false
    if (e.operator === "DoesNotExist" && has) return false
  }
  return true
}

/** Service-style selector (a plain map). */
function mapMatches(sel: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!sel || Object.keys(sel).length === 0) return false
  return Object.entries(sel).every(([k, v]) => labels[k] === v)
}

// ---------- requests, limits, probes ----------

/** Every container (not init) has cpu+memory requests and limits, and liveness, readiness and startup probes. */
export function resourcesAndProbes(objs: K8sObject[]): string[] {
  const problems: string[] = []
  for (const w of workloads(objs)) {
    for (const c of (w.pod.containers ?? []) as Container[]) {
      const where = `${w.id} container ${c.name}`
      for (const kind of ["requests", "limits"] as const) {
        for (const r of ["cpu", "memory"]) {
          if (c.resources?.[kind]?.[r] === undefined) problems.push(`${where}: no resources.${kind}.${r}`)
        }
      }
      for (const p of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        if (!c[p]) problems.push(`${where}: no ${p}`)
      }
    }
  }
  return problems
}

// ---------- selectors ----------

/** Selectors of Deployments, Services, PDBs and NetworkPolicies each match at least one pod template. */
export function selectorsMatchPods(objs: K8sObject[]): string[] {
  const problems: string[] = []
  const ws = workloads(objs)
  const podsIn = (namespace: string) => ws.filter((w) => w.namespace === namespace)
  for (const w of ws) {
    if (w.obj.kind === "Pod") continue
    if (!selectorMatches(w.obj.spec?.selector, w.podLabels)) {
      problems.push(`${w.id}: spec.selector does not match its own pod template labels`)
    }
  }
  for (const o of objs) {
    if (o.kind === "Service" && o.spec?.type !== "ExternalName") {
      if (!podsIn(ns(o)).some((w) => mapMatches(o.spec?.selector, w.podLabels))) {
        problems.push(`${id(o)}: selector ${JSON.stringify(o.spec?.selector ?? {})} matches no pod template`)
      }
    }
    if (o.kind === "PodDisruptionBudget") {
      if (!podsIn(ns(o)).some((w) => selectorMatches(o.spec?.selector, w.podLabels))) {
        problems.push(`${id(o)}: selector matches no pod template`)
      }
    }
    if (o.kind === "NetworkPolicy") {
      const sel = o.spec?.podSelector ?? {}
      const empty = Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0
      if (!empty && !podsIn(ns(o)).some((w) => selectorMatches(sel, w.podLabels))) {
        problems.push(`${id(o)}: podSelector matches no pod template`)
      }
      for (const rule of o.spec?.ingress ?? []) {
        for (const peer of rule.from ?? []) {
          if (peer.podSelector && !peer.namespaceSelector) {
            if (!podsIn(ns(o)).some((w) => selectorMatches(peer.podSelector, w.podLabels))) {
              problems.push(`${id(o)}: ingress from podSelector ${JSON.stringify(peer.podSelector)} matches no pod template`)
            }
          }
        }
      }
    }
  }
  return problems
}

// ---------- ports ----------

function exposes(c: Container, target: number | string): boolean {
  return (c.ports ?? []).some((p: any) => (typeof target === "number" ? p.containerPort === target : p.name === target))
}

/**
 * Every Service port's targetPort is a port a container of a selected pod exposes; every Ingress backend
 * names an existing Service and port; every NetworkPolicy port is exposed by the pods it selects.
 */
export function portsExposed(objs: K8sObject[]): string[] {
  const problems: string[] = []
  const ws = workloads(objs)
  const services = objs.filter((o) => o.kind === "Service")
  for (const s of services) {
    const pods = ws.filter((w) => w.namespace === ns(s) && mapMatches(s.spec?.selector, w.podLabels))
    if (pods.length === 0) continue // reported by selectorsMatchPods
    for (const p of s.spec?.ports ?? []) {
      const target = p.targetPort ?? p.port
      if (!pods.some((w) => (w.pod.containers ?? []).some((c: Container) => exposes(c, target)))) {
        problems.push(`${id(s)}: port ${p.port} targets ${JSON.stringify(target)}, which no selected container exposes`)
      }
    }
  }
  for (const ing of objs.filter((o) => o.kind === "Ingress")) {
    const backends = [
      ...(ing.spec?.defaultBackend ? [ing.spec.defaultBackend] : []),
      ...(ing.spec?.rules ?? []).flatMap((r: any) => (r.http?.paths ?? []).map((p: any) => p.backend)),
    ]
    for (const b of backends) {
      const svc = services.find((s) => s.metadata.name === b?.service?.name && ns(s) === ns(ing))
      if (!svc) {
        problems.push(`${id(ing)}: backend Service ${b?.service?.name} does not exist`)
        continue
      }
      const want = b.service.port ?? {}
      const ok = (svc.spec?.ports ?? []).some((p: any) =>
        want.number !== undefined ? p.port === want.number : p.name === want.name,
      )
      if (!ok) problems.push(`${id(ing)}: Service ${svc.metadata.name} has no port ${JSON.stringify(want)}`)
    }
  }
  for (const np of objs.filter((o) => o.kind === "NetworkPolicy")) {
    const pods = ws.filter((w) => w.namespace === ns(np) && selectorMatches(np.spec?.podSelector, w.podLabels))
    for (const rule of np.spec?.ingress ?? []) {
      for (const p of rule.ports ?? []) {
        if (p.port === undefined) continue
        if (!pods.some((w) => (w.pod.containers ?? []).some((c: Container) => exposes(c, p.port)))) {
          problems.push(`${id(np)}: port ${JSON.stringify(p.port)} is exposed by none of the selected pods`)
        }
      }
    }
  }
  return problems
}

// ---------- nginx upstream vs Service ----------

export interface Upstream {
  host: string
  port: number
  line: number
}

/** Every `proxy_pass` target of an nginx config (variables from `set` and `upstream` blocks resolved). */
export function nginxUpstreams(conf: string): Upstream[] {
  const text = conf.replace(/#[^\n]*/g, "")
  const lineOf = (idx: number) => text.slice(0, idx).split("\n").length
  const vars = new Map<string, string>()
  for (const m of text.matchAll(/\bset\s+\$(\w+)\s+("?)([^";\s]+)\2\s*;/g)) vars.set(m[1]!, m[3]!)
  const upstreamBlocks = new Map<string, string[]>()
  for (const m of text.matchAll(/\bupstream\s+([\w.-]+)\s*\{([^}]*)\}/g)) {
    upstreamBlocks.set(m[1]!, [...m[2]!.matchAll(/\bserver\s+([^;\s]+)/g)].map((s) => s[1]!))
  }
  const out: Upstream[] = []
  for (const m of text.matchAll(/\bproxy_pass\s+([^;]+);/g)) {
    let target = m[1]!.trim().replace(/^"|"$/g, "")
    target = target.replace(/\$(\w+)/g, (all, v: string) => vars.get(v) ?? all)
    const u = /^(https?):\/\/([^/:$]+)(?::(\d+))?/.exec(target)
    if (!u) throw new Error(`nginx.conf:${lineOf(m.index!)}: cannot resolve proxy_pass ${m[1]!.trim()}`)
    const servers = upstreamBlocks.get(u[2]!)
    const defaultPort = u[1] === "https" ? 443 : 80
    if (servers) {
      for (const s of servers) {
        const [h, p] = s.split(":")
        out.push({ host: h!, port: p ? Number(p) : defaultPort, line: lineOf(m.index!) })
      }
    } else {
      out.push({ host: u[2]!, port: u[3] ? Number(u[3]) : defaultPort, line: lineOf(m.index!) })
    }
  }
  return out
}

/** Each nginx upstream is `<Service>:<port>` (or its cluster DNS name) of a Service in the manifests. */
export function nginxUpstreamsMatchServices(conf: string, objs: K8sObject[]): string[] {
  const ups = nginxUpstreams(conf)
  if (ups.length === 0) return ["nginx.conf: no proxy_pass found (the UI must proxy /api and /health)"]
  const problems: string[] = []
  for (const u of ups) {
    const short = u.host.split(".")[0]!
    const svc = objs.find(
      (o) =>
        o.kind === "Service" &&
        o.metadata.name === short &&
        (u.host === short || u.host.startsWith(`${short}.${ns(o)}.`) || u.host === `${short}.${ns(o)}`),
    )
    if (!svc) {
      problems.push(`nginx.conf:${u.line}: upstream host ${u.host} is no Service of the manifests`)
    } else if (!(svc.spec?.ports ?? []).some((p: any) => p.port === u.port)) {
      problems.push(`nginx.conf:${u.line}: Service ${svc.metadata.name} has no port ${u.port}`)
    }
  }
  return problems
}

// ---------- Secret keys vs the backend's settings ----------

function backendContainer(objs: K8sObject[]): { w: Workload; c: Container } {
  for (const w of workloads(objs)) {
    if (w.obj.kind !== "Deployment" || w.obj.metadata.name !== "backend") continue
    const c = (w.pod.containers ?? []).find((x: Container) => x.name === "backend")
    if (c) return { w, c }
  }
  throw new Error("no Deployment backend with a container backend")
}

function secretValues(s: K8sObject): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(String(v), "base64").toString("utf8")
  for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = String(v ?? "")
  return out
}

/**
 * The backend container's environment against `mydocs config keys --json`:
 * - every key of a Secret it loads (envFrom) and every env name is a variable the backend reads;
 * - every required variable gets a non-empty value from an env entry or a Secret key.
 * `externalSecret: true` (azure: the pipeline creates mydocs-secrets) checks only what the manifests hold.
 */
export function backendEnvMatchesSettings(
  objs: K8sObject[],
  vars: ConfigVariable[],
  opts: { externalSecret?: boolean } = {},
): string[] {
  const known = new Map(vars.map((v) => [v.name, v]))
  const problems: string[] = []
  const { w, c } = backendContainer(objs)
  const provided = new Set<string>()
  for (const e of c.env ?? []) {
    if (!known.has(e.name)) problems.push(`${w.id}: env ${e.name} is not a variable the backend reads`)
    if ((e.value ?? "") !== "" || e.valueFrom) provided.add(e.name)
  }
  for (const ef of c.envFrom ?? []) {
    const ref = ef.secretRef?.name ?? ef.configMapRef?.name
    const kind = ef.secretRef ? "Secret" : "ConfigMap"
    const src = objs.find((o) => o.kind === kind && o.metadata.name === ref && ns(o) === w.namespace)
    if (!src) {
      if (!(opts.externalSecret && kind === "Secret")) problems.push(`${w.id}: envFrom ${kind} ${ref} is not in the manifests`)
      continue
    }
    const values = kind === "Secret" ? secretValues(src) : (src.data ?? {})
    for (const [k, v] of Object.entries(values)) {
      const name = `${ef.prefix ?? ""}${k}`
      if (!known.has(name)) problems.push(`${id(src)}: key ${name} is not a variable the backend reads`)
      if (String(v) !== "") provided.add(name)
    }
  }
  if (!opts.externalSecret) {
    for (const v of vars) {
      if (v.required && !provided.has(v.name)) {
        problems.push(`${w.id}: required variable ${v.name} gets no value from env or a Secret`)
      }
    }
  }
  return problems
}

/** secret.yml.example names exactly the variables the backend marks secret (no stranger, none missing). */
export function secretTemplateMatchesSettings(template: K8sObject, vars: ConfigVariable[]): string[] {
  const problems: string[] = []
  if (template.kind !== "Secret" || template.metadata.name !== "mydocs-secrets") {
    problems.push("secret.yml.example: must be the Secret mydocs-secrets")
  }
  const keys = new Set([...Object.keys(template.stringData ?? {}), ...Object.keys(template.data ?? {})])
  const byName = new Map(vars.map((v) => [v.name, v]))
  for (const k of keys) {
    const v = byName.get(k)
    if (!v) problems.push(`secret.yml.example: key ${k} is not a variable the backend reads`)
    else if (!v.secret) problems.push(`secret.yml.example: ${k} is a plain setting (secret: false), not a Secret key`)
  }
  for (const v of vars) if (v.secret && !keys.has(v.name)) problems.push(`secret.yml.example: missing key ${v.name}`)
  return problems
}

// ---------- Pod Security "restricted" (and then some) ----------

const RESTRICTED_VOLUMES = new Set([
  "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
])
// Pod Security "baseline" safe sysctls (restricted inherits them), Kubernetes 1.33
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
])
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"])

/**
 * The Pod Security Standard "restricted" (Kubernetes 1.33, all its baseline and restricted controls),
 * plus this project's rules: a numeric non-root runAsUser and a read-only root filesystem for every
 * container, and the namespace enforcing "restricted".
 */
export function podSecurityRestricted(objs: K8sObject[]): string[] {
  const problems: string[] = []
  for (const w of workloads(objs)) {
    const p = w.pod
    const psc = p.securityContext ?? {}
    const bad = (msg: string) => problems.push(`${w.id}: ${msg}`)
    if (p.hostNetwork) bad("hostNetwork")
    if (p.hostPID) bad("hostPID")
    if (p.hostIPC) bad("hostIPC")
    for (const v of p.volumes ?? []) {
      const type = Object.keys(v).find((k) => k !== "name")
      if (!type || !RESTRICTED_VOLUMES.has(type)) bad(`volume ${v.name} of type ${type} is not allowed`)
    }
    for (const s of psc.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) bad(`sysctl ${s.name} is not a safe sysctl`)
    if (psc.runAsUser === 0) bad("pod runAsUser 0")
    if (psc.seLinuxOptions && !SELINUX_TYPES.has(psc.seLinuxOptions.type ?? "")) bad("seLinuxOptions.type")
    if (psc.seLinuxOptions?.user || psc.seLinuxOptions?.role) bad("seLinuxOptions user/role")
    if (psc.appArmorProfile && !["RuntimeDefault", "Localhost"].includes(psc.appArmorProfile.type)) {
      bad("pod appArmorProfile")
    }
    const podSeccomp = psc.seccompProfile?.type
    if (podSeccomp !== undefined && !["RuntimeDefault", "Localhost"].includes(podSeccomp)) bad(`pod seccompProfile ${podSeccomp}`)
    for (const c of allContainers(p)) {
      const sc = c.securityContext ?? {}
      const where = `container ${c.name}`
      if (sc.privileged) bad(`${where}: privileged`)
      if (sc.allowPrivilegeEscalation !== false) bad(`${where}: allowPrivilegeEscalation must be false`)
      const drop: string[] = sc.capabilities?.drop ?? []
      if (!drop.includes("ALL")) bad(`${where}: capabilities.drop must include ALL`)
      for (const cap of sc.capabilities?.add ?? []) if (cap !== "NET_BIND_SERVICE") bad(`${where}: adds capability ${cap}`)
      const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot
      if (nonRoot !== true) bad(`${where}: runAsNonRoot must be true (pod or container)`)
      const uid = sc.runAsUser ?? psc.runAsUser
      if (uid === 0) bad(`${where}: runAsUser 0`)
      if (!Number.isInteger(uid) || uid < 1) bad(`${where}: needs a numeric non-root runAsUser`)
      const seccomp = sc.seccompProfile?.type ?? podSeccomp
      if (!["RuntimeDefault", "Localhost"].includes(seccomp)) bad(`${where}: seccompProfile must be RuntimeDefault or Localhost`)
      if (sc.procMount && sc.procMount !== "Default") bad(`${where}: procMount ${sc.procMount}`)
      if (sc.seLinuxOptions && !SELINUX_TYPES.has(sc.seLinuxOptions.type ?? "")) bad(`${where}: seLinuxOptions.type`)
      if (sc.appArmorProfile && !["RuntimeDefault", "Localhost"].includes(sc.appArmorProfile.type)) bad(`${where}: appArmorProfile`)
      if (sc.windowsOptions?.hostProcess) bad(`${where}: hostProcess`)
      for (const port of c.ports ?? []) if (port.hostPort) bad(`${where}: hostPort ${port.hostPort}`)
      if (sc.readOnlyRootFilesystem !== true) bad(`${where}: readOnlyRootFilesystem must be true`)
    }
  }
  for (const n of objs.filter((o) => o.kind === "Namespace")) {
    if (n.metadata.labels?.["pod-security.kubernetes.io/enforce"] !== "restricted") {
      problems.push(`${id(n)}: label pod-security.kubernetes.io/enforce must be restricted`)
    }
  }
  return problems
}

// ---------- rollout safety ----------

/**
 * Lessons of a field implementation: a ReadWriteOnce claim with a RollingUpdate (multi-attach hang) or
 * with more than one replica; a ConfigMap mounted with subPath (updates never arrive).
 */
export function rolloutSafety(objs: K8sObject[]): string[] {
  const problems: string[] = []
  const rwo = new Set(
    objs
      .filter((o) => o.kind === "PersistentVolumeClaim" && (o.spec?.accessModes ?? []).includes("ReadWriteOnce"))
      .map((o) => `${ns(o)}/${o.metadata.name}`),
  )
  for (const w of workloads(objs)) {
    if (w.obj.kind !== "Deployment") continue
    const claims = (w.pod.volumes ?? []).filter((v: any) => v.persistentVolumeClaim)
    const usesRwo = claims.some((v: any) => rwo.has(`${w.namespace}/${v.persistentVolumeClaim.claimName}`))
    const strategy = w.obj.spec?.strategy?.type ?? "RollingUpdate"
    if (usesRwo && strategy !== "Recreate") problems.push(`${w.id}: mounts a ReadWriteOnce claim with strategy ${strategy}`)
    if (usesRwo && (w.obj.spec?.replicas ?? 1) > 1) problems.push(`${w.id}: mounts a ReadWriteOnce claim with replicas > 1`)
    for (const v of claims) {
      if (!objs.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === v.persistentVolumeClaim.claimName)) {
        problems.push(`${w.id}: claim ${v.persistentVolumeClaim.claimName} is not in the manifests`)
      }
    }
    const cmVolumes = new Set((w.pod.volumes ?? []).filter((v: any) => v.configMap).map((v: any) => v.name))
    for (const c of allContainers(w.pod)) {
      for (const m of c.volumeMounts ?? []) {
        if (cmVolumes.has(m.name) && m.subPath) problems.push(`${w.id}: ConfigMap volume ${m.name} mounted with subPath`)
      }
    }
  }
  return problems
}

// ---------- images ----------

/** Container images that are unpinned: tag `latest` or no tag at all (a digest pins). */
export function latestImages(objs: K8sObject[]): string[] {
  const problems: string[] = []
  for (const w of workloads(objs)) {
    for (const c of allContainers(w.pod)) {
      const img: string = c.image ?? ""
      if (img.includes("@sha256:")) continue
      const last = img.split("/").pop() ?? ""
      const tag = last.includes(":") ? last.split(":").pop() : undefined
      if (tag === undefined || tag === "latest") problems.push(`${w.id} container ${c.name}: image ${img} is not pinned`)
    }
  }
  return problems
}

/** The rendered ConfigMap holding parser.yml (generated name `mydocs-config-<hash>`). */
export function parserConfigMap(objs: K8sObject[]): K8sObject {
  const cms = objs.filter((o) => o.kind === "ConfigMap" && /^mydocs-config(-[a-z0-9]+)?$/.test(o.metadata.name))
  if (cms.length !== 1) throw new Error(`expected one ConfigMap mydocs-config, found ${cms.length}`)
  return cms[0]!
}
