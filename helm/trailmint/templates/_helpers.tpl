{{/* Names, labels and the settings derived from several values. */}}

{{- define "trailmint.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name; leaves room for the "-headless" and "-redis" suffixes within 63 characters. */}}
{{- define "trailmint.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 54 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "trailmint.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; `trailmint.labels` adds the component of the server's objects. */}}
{{- define "trailmint.commonLabels" -}}
helm.sh/chart: {{ include "trailmint.chart" . }}
app.kubernetes.io/name: {{ include "trailmint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: trailmint
{{- end }}

{{- define "trailmint.labels" -}}
{{ include "trailmint.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "trailmint.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trailmint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{- define "trailmint.redis.fullname" -}}
{{- printf "%s-redis" (include "trailmint.fullname" .) }}
{{- end }}

{{- define "trailmint.redis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trailmint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "trailmint.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "trailmint.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "trailmint.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* TRAILMINT_STORE: the volume in lmdb mode, the Redis URL in redis mode. */}}
{{- define "trailmint.storeUrl" -}}
{{- if eq .Values.storeMode "lmdb" }}
{{- "/data" }}
{{- else if .Values.redis.url }}
{{- .Values.redis.url }}
{{- else }}
{{- printf "redis://%s:6379" (include "trailmint.redis.fullname" .) }}
{{- end }}
{{- end }}

{{/* AWS region: the value, or the one in a queue URL https://sqs.<region>.amazonaws.com/... */}}
{{- define "trailmint.region" -}}
{{- $pattern := "^https://sqs[.-]([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?/.*$" }}
{{- if .Values.region }}
{{- .Values.region }}
{{- else if regexMatch $pattern .Values.queueUrl }}
{{- regexReplaceAll $pattern .Values.queueUrl "${1}" }}
{{- end }}
{{- end }}

{{- define "trailmint.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add (int .Values.config.shutdownTimeoutSecs) 30 }}
{{- else }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* Secret holding the API token; empty when the API is open. */}}
{{- define "trailmint.apiTokenSecret" -}}
{{- if .Values.apiToken.existingSecret }}
{{- .Values.apiToken.existingSecret }}
{{- else if .Values.apiToken.value }}
{{- printf "%s-api-token" (include "trailmint.fullname" .) }}
{{- end }}
{{- end }}

{{- define "trailmint.apiTokenKey" -}}
{{- if .Values.apiToken.existingSecret }}
{{- .Values.apiToken.existingSecretKey }}
{{- else }}
{{- "api-token" }}
{{- end }}
{{- end }}

{{/* Whether the chart creates the Redis password Secret (a value given, or the bundled Redis). */}}
{{- define "trailmint.redis.createSecret" -}}
{{- if and (eq .Values.storeMode "redis") (not .Values.redis.password.existingSecret) (or .Values.redis.password.value .Values.redis.bundled.enabled) }}
{{- "true" }}
{{- end }}
{{- end }}

{{/* Secret holding the Redis password; empty when Redis needs none. */}}
{{- define "trailmint.redis.passwordSecret" -}}
{{- if ne .Values.storeMode "redis" }}
{{- else if .Values.redis.password.existingSecret }}
{{- .Values.redis.password.existingSecret }}
{{- else if include "trailmint.redis.createSecret" . }}
{{- include "trailmint.redis.fullname" . }}
{{- end }}
{{- end }}

{{- define "trailmint.redis.passwordKey" -}}
{{- if .Values.redis.password.existingSecret }}
{{- .Values.redis.password.existingSecretKey }}
{{- else }}
{{- "redis-password" }}
{{- end }}
{{- end }}

{{/*
Refusals: combinations the schema cannot express, with what to do instead. Rendered (as nothing)
by templates/validate.yaml, so every install, upgrade and template run checks them.
*/}}
{{- define "trailmint.validate" -}}
{{- $v := .Values }}
{{- if eq $v.storeMode "lmdb" }}
{{- if ne (int $v.replicaCount) 1 }}
{{- fail (printf "storeMode lmdb runs exactly one pod (the embedded store is one process on one volume), got replicaCount=%d: set storeMode=redis to run several replicas on one queue" (int $v.replicaCount)) }}
{{- end }}
{{- if $v.autoscaling.enabled }}
{{- fail "storeMode lmdb cannot autoscale (the embedded store is one process on one volume): set storeMode=redis, or autoscaling.enabled=false" }}
{{- end }}
{{- if $v.redis.bundled.enabled }}
{{- fail "redis.bundled.enabled needs storeMode=redis" }}
{{- end }}
{{- else }}
{{- if and $v.redis.url $v.redis.bundled.enabled }}
{{- fail "storeMode redis: give either redis.url (an external Redis) or redis.bundled.enabled=true, not both" }}
{{- end }}
{{- if not (or $v.redis.url $v.redis.bundled.enabled) }}
{{- fail "storeMode redis needs redis.url (redis://host:6379, rediss:// for TLS) or redis.bundled.enabled=true" }}
{{- end }}
{{- end }}
{{- if and $v.autoscaling.enabled (lt (int $v.autoscaling.maxReplicas) (int $v.autoscaling.minReplicas)) }}
{{- fail (printf "autoscaling.maxReplicas (%d) must be at least autoscaling.minReplicas (%d)" (int $v.autoscaling.maxReplicas) (int $v.autoscaling.minReplicas)) }}
{{- end }}
{{- if and $v.autoscaling.enabled (eq $v.autoscaling.type "keda") }}
{{- if not $v.queueUrl }}
{{- fail "autoscaling.type keda scales on the SQS queue length: set queueUrl" }}
{{- end }}
{{- if not (include "trailmint.region" .) }}
{{- fail "autoscaling.type keda needs the queue's region: set region (it could not be read from queueUrl)" }}
{{- end }}
{{- if and $v.autoscaling.keda.roleArn (ne $v.autoscaling.keda.auth "podIdentity") }}
{{- fail "autoscaling.keda.roleArn is used with autoscaling.keda.auth=podIdentity only" }}
{{- end }}
{{- end }}
{{- if and $v.apiToken.existingSecret $v.apiToken.value }}
{{- fail "apiToken: give either existingSecret or value, not both" }}
{{- end }}
{{- if and $v.redis.password.existingSecret $v.redis.password.value }}
{{- fail "redis.password: give either existingSecret or value, not both" }}
{{- end }}
{{- if and $v.podDisruptionBudget.enabled (not (kindIs "invalid" $v.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" $v.podDisruptionBudget.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set one of minAvailable and maxUnavailable (the other to null)" }}
{{- end }}
{{- $grace := int (include "trailmint.terminationGracePeriodSeconds" .) }}
{{- if le $grace (int $v.config.shutdownTimeoutSecs) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed config.shutdownTimeoutSecs (%d), or Kubernetes kills the pod before in-flight work is committed" $grace (int $v.config.shutdownTimeoutSecs)) }}
{{- end }}
{{- end }}

{{/* The pod template shared by the StatefulSet (lmdb) and the Deployment (redis). */}}
{{- define "trailmint.podTemplate" -}}
metadata:
  labels:
    {{- include "trailmint.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "trailmint.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
  terminationGracePeriodSeconds: {{ include "trailmint.terminationGracePeriodSeconds" . }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
    - name: trailmint
      image: {{ include "trailmint.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["node", "src/cli.ts", "serve"]
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ include "trailmint.fullname" . }}
        {{- with .Values.extraEnvFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- $tokenSecret := include "trailmint.apiTokenSecret" . }}
      {{- $redisSecret := include "trailmint.redis.passwordSecret" . }}
      {{- if or $tokenSecret $redisSecret .Values.extraEnv }}
      env:
        {{- if $tokenSecret }}
        - name: TRAILMINT_API_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ $tokenSecret }}
              key: {{ include "trailmint.apiTokenKey" . }}
        {{- end }}
        {{- if $redisSecret }}
        - name: TRAILMINT_REDIS_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ $redisSecret }}
              key: {{ include "trailmint.redis.passwordKey" . }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: {{ .Values.probes.startup.periodSeconds }}
        failureThreshold: {{ .Values.probes.startup.failureThreshold }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
        timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
        failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
        timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
        failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if eq .Values.storeMode "lmdb" }}
        - name: data
          mountPath: /data
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
