{{/*
Names are kept under 63 characters because Services and labels allow no
more; the suffixes the templates add ("-catalog-controller-metrics" is the
longest, 26 characters) are accounted for by trimming the prefix to 36.
*/}}
{{- define "svcat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 36 | trimSuffix "-" -}}
{{- end -}}

{{- define "svcat.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 36 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 36 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 36 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "svcat.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "svcat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: svcat
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels must never change after install: a Deployment's
selector is immutable, so the version and chart labels stay out of it. */}}
{{- define "svcat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "svcat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "svcat.controller.fullname" -}}
{{- printf "%s-catalog-controller" (include "svcat.fullname" .) -}}
{{- end -}}

{{- define "svcat.controller.selectorLabels" -}}
{{ include "svcat.selectorLabels" . }}
app.kubernetes.io/component: catalog-controller
{{- end -}}

{{- define "svcat.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create -}}
{{- default (include "svcat.controller.fullname" .) .Values.controller.serviceAccount.name -}}
{{- else -}}
{{- required "controller.serviceAccount.name is required when controller.serviceAccount.create is false" .Values.controller.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "svcat.controller.leaseNamespace" -}}
{{- default .Release.Namespace .Values.controller.leaderElection.namespace -}}
{{- end -}}

{{- define "svcat.broker.fullname" -}}
{{- printf "%s-kafka-broker" (include "svcat.fullname" .) -}}
{{- end -}}

{{- define "svcat.broker.selectorLabels" -}}
{{ include "svcat.selectorLabels" . }}
app.kubernetes.io/component: kafka-broker
{{- end -}}

{{- define "svcat.broker.serviceAccountName" -}}
{{- if .Values.kafkaBroker.serviceAccount.create -}}
{{- default (include "svcat.broker.fullname" .) .Values.kafkaBroker.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.kafkaBroker.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "svcat.broker.authSecretName" -}}
{{- default (printf "%s-auth" (include "svcat.broker.fullname" .)) .Values.kafkaBroker.auth.existingSecret -}}
{{- end -}}

{{- define "svcat.broker.kafkaSecretName" -}}
{{- default (printf "%s-kafka-admin" (include "svcat.broker.fullname" .)) .Values.kafkaBroker.external.existingSecret -}}
{{- end -}}

{{- define "svcat.broker.serviceHost" -}}
{{- printf "%s.%s.svc" (include "svcat.broker.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* image renders repository:tag, or repository@digest when a digest is
given, so that a pinned digest cannot be overridden by a stale tag. */}}
{{- define "svcat.image" -}}
{{- $img := index . 0 -}}
{{- $root := index . 1 -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default $root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* The restricted Pod Security Standard, at pod and container level. The
images run as distroless' nonroot user, 65532. */}}
{{- define "svcat.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "svcat.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "svcat.validate" -}}
{{- $kb := .Values.kafkaBroker -}}
{{- if $kb.enabled -}}
{{- if not (has $kb.mode (list "external" "embedded")) -}}
{{- fail (printf "kafkaBroker.mode must be external or embedded, not %q" $kb.mode) -}}
{{- end -}}
{{- if and (eq $kb.mode "external") (not $kb.external.bootstrapServers) -}}
{{- fail "kafkaBroker.external.bootstrapServers is required when kafkaBroker.mode is external" -}}
{{- end -}}
{{- if and (eq $kb.mode "external") (not $kb.external.existingSecret) (not (and $kb.external.adminUser $kb.external.adminPassword)) -}}
{{- fail "kafkaBroker.external: set existingSecret, or adminUser and adminPassword" -}}
{{- end -}}
{{- end -}}
{{- if and (not .Values.controller.leaderElection.enabled) (gt (int .Values.controller.replicaCount) 1) -}}
{{- fail "controller.replicaCount above 1 needs controller.leaderElection.enabled: replicas without election would all reconcile" -}}
{{- end -}}
{{- end -}}

{{/*
svcat.catalogLimits renders one scope of controller.catalogLimits as the
KEY=VALUE list of the catalog-controller's catalog limit flags. Counts go
through int64, so that YAML's floats never print as 1e+06; sizes may be
strings with Ki, Mi or Gi.
*/}}
{{- define "svcat.catalogLimits" -}}
{{- $size := dict -}}
{{- range $k := list "bytes" "objectBytes" -}}
{{- $v := get $ $k -}}
{{- $_ := set $size $k (ternary $v (int64 $v | toString) (kindIs "string" $v)) -}}
{{- end -}}
bytes={{ $size.bytes }},depth={{ int64 .depth }},services={{ int64 .services }},plans-per-service={{ int64 .plansPerService }},plans={{ int64 .plans }},object-bytes={{ $size.objectBytes }},values={{ int64 .values }}
{{- end }}
