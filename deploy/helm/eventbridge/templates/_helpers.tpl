{{/* The chart's name, 63 characters at most. */}}
{{- define "eventbridge.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: the prefix of every object's name. */}}
{{- define "eventbridge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "eventbridge.name" . -}}
{{- if eq .Release.Name $name -}}
{{- $name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "eventbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eventbridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "eventbridge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{ include "eventbridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "eventbridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "eventbridge.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* "true" when the API gets an admin token, "" otherwise. */}}
{{- define "eventbridge.hasToken" -}}
{{- if or .Values.adminToken.value .Values.adminToken.existingSecret -}}true{{- end -}}
{{- end -}}

{{- define "eventbridge.tokenSecretName" -}}
{{- .Values.adminToken.existingSecret | default (printf "%s-admin-token" (include "eventbridge.fullname" .)) -}}
{{- end -}}

{{/* Fails the render on a bus.mode other than embedded or external. */}}
{{- define "eventbridge.checkMode" -}}
{{- if not (or (eq .Values.bus.mode "embedded") (eq .Values.bus.mode "external")) -}}
{{- required (printf "bus.mode must be embedded or external, not %q" .Values.bus.mode) "" -}}
{{- end -}}
{{- end -}}

{{/*
The bridge's config file. The data directory (/data) and the config path
(/etc/eventbridge/eventbridge.yaml) are fixed: the pod template mounts them.
*/}}
{{- define "eventbridge.config" -}}
{{- include "eventbridge.checkMode" . -}}
bus:
{{- if eq .Values.bus.mode "embedded" }}
  data_dir: /data
{{- else }}
  url: {{ required "bus.url is required when bus.mode is external" .Values.bus.url | quote }}
  replicas: {{ .Values.bus.replicas }}
{{- if .Values.bus.prefix }}
  prefix: {{ .Values.bus.prefix | quote }}
{{- end }}
{{- if .Values.bus.credentialsSecret }}
  credentials: /etc/nats/nats.creds
{{- end }}
{{- end }}
api:
  listen: {{ printf "0.0.0.0:%v" .Values.port | quote }}
{{- if include "eventbridge.hasToken" . }}
  tokens:
    admin:
      token: ${env:EVENTBRIDGE_ADMIN_TOKEN}
      scopes: [admin]
{{- end }}
{{- with .Values.config }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The pod template of the StatefulSet (embedded) and the Deployment (external). */}}
{{- define "eventbridge.podTemplate" -}}
metadata:
  labels:
    {{- include "eventbridge.selectorLabels" . | nindent 4 }}
  annotations:
    # A config change rolls the pods.
    checksum/config: {{ include "eventbridge.config" . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "eventbridge.serviceAccountName" . }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    {{- if eq .Values.bus.mode "embedded" }}
    fsGroup: 65532
    fsGroupChangePolicy: OnRootMismatch
    {{- end }}
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: eventbridge
      image: {{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["serve", "--config", "/etc/eventbridge/eventbridge.yaml"]
      {{- if include "eventbridge.hasToken" . }}
      env:
        - name: EVENTBRIDGE_ADMIN_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ include "eventbridge.tokenSecretName" . }}
              key: token
      {{- end }}
      ports:
        - name: http
          containerPort: {{ .Values.port }}
          protocol: TCP
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 60
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 3
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: config
          mountPath: /etc/eventbridge
          readOnly: true
        {{- if eq .Values.bus.mode "embedded" }}
        - name: data
          mountPath: /data
        {{- else if .Values.bus.credentialsSecret }}
        - name: nats-creds
          mountPath: /etc/nats
          readOnly: true
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "eventbridge.fullname" . }}
    {{- if and (eq .Values.bus.mode "external") .Values.bus.credentialsSecret }}
    - name: nats-creds
      secret:
        secretName: {{ .Values.bus.credentialsSecret }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
