package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/mfatriage/triage/templates"
)

// The tests run in deploy/; the repository root is one up.
const (
	root        = ".."
	composePath = root + "/docker-compose.yml"
	envExample  = "triage.env.example"
	k8sDir      = "kubernetes"
	overrideDir = k8sDir + "/overrides"
	namespace   = "triage"
)

// secretish names the variables that hold credentials: they belong in the
// Secret, never in the ConfigMap.
var secretish = regexp.MustCompile(`TOKEN|SECRET|PASSWORD|_PAT$`)

// ---------------------------------------------------------------------------
// The configuration variables, from cmd/triage/env.go.

// envVarNames returns the variable names of env.go's envVars, sorted. It
// reads the file as text, so this package does not depend on package main.
func envVarNames(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "cmd", "triage", "env.go"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)\nvar envVars = .*?\n}\n`).Find(src)
	if block == nil {
		t.Fatal("cmd/triage/env.go: no `var envVars = ...` block ending in a line `}`")
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*\{"([A-Z][A-Z0-9_]*)",`).FindAllSubmatch(block, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) < 20 {
		t.Fatalf("found only %d names in envVars (%v): has its layout changed?", len(names), names)
	}
	slices.Sort(names)
	return names
}

// readEnvFile reads KEY=VALUE lines, skipping blank lines and # comments. A
// key given twice is an error.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(k) {
			t.Fatalf("%s:%d: not a KEY=VALUE line: %q", path, n, line)
		}
		if strings.ContainsAny(v, `"'`) {
			t.Errorf("%s:%d: %s: no quotes, please (docker run --env-file keeps them)", path, n, k)
		}
		if _, dup := env[k]; dup {
			t.Errorf("%s:%d: %s is set twice", path, n, k)
		}
		env[k] = v
	}
	return env
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ---------------------------------------------------------------------------
// docker-compose.yml

// strList is a Compose string-or-list (command, healthcheck test).
type strList []string

func (s *strList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = strings.Fields(n.Value)
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// envFileRef is one env_file entry: a path, or {path, required}.
type envFileRef struct {
	Path     string
	Required bool
}

type envFiles []envFileRef

func (e *envFiles) UnmarshalYAML(n *yaml.Node) error {
	nodes := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
	}
	for _, c := range nodes {
		if c.Kind == yaml.ScalarNode {
			*e = append(*e, envFileRef{Path: c.Value, Required: true})
			continue
		}
		var long struct {
			Path     string `yaml:"path"`
			Required *bool  `yaml:"required"`
		}
		if err := c.Decode(&long); err != nil {
			return err
		}
		*e = append(*e, envFileRef{Path: long.Path, Required: long.Required == nil || *long.Required})
	}
	return nil
}

// environment is a Compose environment: a map, or a list of KEY=VALUE.
type environment map[string]string

func (e *environment) UnmarshalYAML(n *yaml.Node) error {
	*e = environment{}
	if n.Kind == yaml.SequenceNode {
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			(*e)[k] = v
		}
		return nil
	}
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return err
	}
	for k, v := range m {
		(*e)[k] = v
	}
	return nil
}

// dependsOn maps a service to its condition: a list means service_started.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = dependsOn{}
	if n.Kind == yaml.SequenceNode {
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, s := range l {
			(*d)[s] = "service_started"
		}
		return nil
	}
	var m map[string]struct {
		Condition string `yaml:"condition"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	for k, v := range m {
		(*d)[k] = v.Condition
	}
	return nil
}

// build is a Compose build: a context path, or {context, dockerfile}.
type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func (b *build) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*b = build{Context: n.Value, Dockerfile: "Dockerfile"}
		return nil
	}
	type plain build
	return n.Decode((*plain)(b))
}

type composeService struct {
	Image       string      `yaml:"image"`
	Build       *build      `yaml:"build"`
	Command     strList     `yaml:"command"`
	EnvFile     envFiles    `yaml:"env_file"`
	Environment environment `yaml:"environment"`
	Ports       []string    `yaml:"ports"`
	Volumes     []string    `yaml:"volumes"`
	Profiles    []string    `yaml:"profiles"`
	DependsOn   dependsOn   `yaml:"depends_on"`
	Healthcheck *struct {
		Test strList `yaml:"test"`
	} `yaml:"healthcheck"`
	StopGracePeriod string `yaml:"stop_grace_period"`
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// flagValues reads "--name value" and "--name=value" pairs of a command.
func flagValues(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(name, "="); ok {
			out[k] = v
		} else if i+1 < len(args) {
			out[name] = args[i+1]
			i++
		}
	}
	return out
}

func TestCompose(t *testing.T) {
	t.Parallel()
	c := readCompose(t)
	svc := func(name string) composeService {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("docker-compose.yml: no service %q", name)
		}
		return s
	}
	redis, triage, asynqmon, fakejira := svc("redis"), svc("triage"), svc("asynqmon"), svc("fakejira")
	dockerBuild := &build{Context: ".", Dockerfile: "deploy/Dockerfile"}

	tests := []struct {
		name      string
		got, want any
	}{
		{"services", sortedKeys(c.Services), []string{"asynqmon", "fakejira", "redis", "triage"}},

		{"redis image", redis.Image, "redis:7-alpine"},
		{"redis command", redis.Command, strList{"redis-server", "--appendonly", "yes", "--maxmemory-policy", "noeviction"}},
		{"redis data volume", redis.Volumes, []string{"redis-data:/data"}},
		{"redis-data declared", slices.Contains(sortedKeys(c.Volumes), "redis-data"), true},
		{"redis healthcheck", redis.Healthcheck != nil && slices.Contains(redis.Healthcheck.Test, "ping"), true},
		{"redis not published", redis.Ports, []string(nil)},

		{"triage build", triage.Build, dockerBuild},
		{"triage command", triage.Command, strList{"serve"}},
		{"triage env_file", triage.EnvFile, envFiles{{Path: "deploy/triage.env.example", Required: true}, {Path: "deploy/triage.env", Required: false}}},
		{"triage REDIS_URL", triage.Environment["REDIS_URL"], "redis://redis:6379/0"},
		{"triage ports", triage.Ports, []string{"8080:8080"}},
		{"triage depends_on", triage.DependsOn, dependsOn{"redis": "service_healthy"}},
		{"triage healthcheck", triage.Healthcheck != nil && slices.Equal(triage.Healthcheck.Test, strList{"CMD", "/healthcheck", "http://127.0.0.1:8080/healthz"}), true},
		{"triage stop grace", triage.StopGracePeriod, "45s"},

		{"asynqmon image", asynqmon.Image, "hibiken/asynqmon:0.7.2"},
		{"asynqmon command", asynqmon.Command, strList{"--redis-addr=redis:6379"}},
		{"asynqmon ports", asynqmon.Ports, []string{"8090:8080"}},
		{"asynqmon depends_on", asynqmon.DependsOn, dependsOn{"redis": "service_healthy"}},

		{"fakejira profiles", fakejira.Profiles, []string{"fakejira"}},
		{"fakejira image = triage image", fakejira.Image, triage.Image},
		{"fakejira build", fakejira.Build, dockerBuild},
		{"fakejira command", fakejira.Command[:min(3, len(fakejira.Command))], strList{"fakejira", "--listen", "0.0.0.0:8081"}},
		{"fakejira ports", fakejira.Ports, []string{"8081:8081"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("docker-compose.yml: %s (-want +got):\n%s", tc.name, d)
			}
		})
	}

	t.Run("every service", func(t *testing.T) {
		t.Parallel()
		for name, s := range c.Services {
			if s.Image == "" && s.Build == nil {
				t.Errorf("service %s has neither image nor build", name)
			}
			if s.Build != nil {
				if _, err := os.Stat(filepath.Join(root, s.Build.Context, s.Build.Dockerfile)); err != nil {
					t.Errorf("service %s: %v", name, err)
				}
			}
			for dep := range s.DependsOn {
				if _, ok := c.Services[dep]; !ok {
					t.Errorf("service %s depends on %s, which does not exist", name, dep)
				}
			}
			for _, f := range s.EnvFile {
				if _, err := os.Stat(filepath.Join(root, f.Path)); f.Required && err != nil {
					t.Errorf("service %s: required env_file: %v", name, err)
				}
			}
			// `docker compose up` starts everything but the trial Jira.
			if want := map[string][]string{"fakejira": {"fakejira"}}[name]; !slices.Equal(s.Profiles, want) {
				t.Errorf("service %s: profiles %v, want %v", name, s.Profiles, want)
			}
		}
	})

	// As shipped, the example env talks to the fakejira service, as its account.
	t.Run("example env matches fakejira", func(t *testing.T) {
		t.Parallel()
		env := readEnvFile(t, envExample)
		flags := flagValues(fakejira.Command)
		_, port, err := net.SplitHostPort(flags["listen"])
		if err != nil {
			t.Fatalf("fakejira --listen: %v", err)
		}
		got := map[string]string{"JIRA_BASE_URL": env["JIRA_BASE_URL"], "JIRA_EMAIL": env["JIRA_EMAIL"], "JIRA_API_TOKEN": env["JIRA_API_TOKEN"], "TRIAGE_BOT_ACCOUNT_ID": env["TRIAGE_BOT_ACCOUNT_ID"], "REDIS_URL": env["REDIS_URL"],
			"JIRA_WEBHOOK_SECRET": env["JIRA_WEBHOOK_SECRET"], "webhook URL": "http://triage" + env["TRIAGE_LISTEN"] + "/webhooks/jira"}
		// The sandbox sends its webhooks to the triage service, signed with its secret.
		want := map[string]string{"JIRA_BASE_URL": "http://fakejira:" + port, "JIRA_EMAIL": flags["email"], "JIRA_API_TOKEN": flags["token"], "TRIAGE_BOT_ACCOUNT_ID": flags["bot-account-id"], "REDIS_URL": triage.Environment["REDIS_URL"],
			"JIRA_WEBHOOK_SECRET": flags["webhook-secret"], "webhook URL": flags["webhook-url"]}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("triage.env.example vs the fakejira service (-want +got):\n%s", d)
		}
		// The worker finishes running tasks before Compose kills it.
		grace, err1 := time.ParseDuration(triage.StopGracePeriod)
		shutdown, err2 := time.ParseDuration(env["TRIAGE_SHUTDOWN_TIMEOUT"])
		if err := errors.Join(err1, err2); err != nil || grace <= shutdown {
			t.Errorf("stop_grace_period %q must exceed TRIAGE_SHUTDOWN_TIMEOUT %q (%v)", triage.StopGracePeriod, env["TRIAGE_SHUTDOWN_TIMEOUT"], err)
		}
	})
}

// ---------------------------------------------------------------------------
// Kubernetes manifests

type meta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type header struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   meta   `yaml:"metadata"`
}

type configMap struct {
	header `yaml:",inline"`
	Data   map[string]string `yaml:"data"`
}

type secret struct {
	header     `yaml:",inline"`
	Type       string            `yaml:"type"`
	StringData map[string]string `yaml:"stringData"`
	Data       map[string]string `yaml:"data"`
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
	TCPSocket any `yaml:"tcpSocket"`
	Exec      any `yaml:"exec"`
	GRPC      any `yaml:"grpc"`
}

type ref struct {
	Name string `yaml:"name"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Ports   []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	EnvFrom []struct {
		ConfigMapRef *ref `yaml:"configMapRef"`
		SecretRef    *ref `yaml:"secretRef"`
	} `yaml:"envFrom"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	StartupProbe   *probe `yaml:"startupProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		Privileged               *bool `yaml:"privileged"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
			Add  []string `yaml:"add"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type deployment struct {
	header `yaml:",inline"`
	Spec   struct {
		Replicas *int          `yaml:"replicas"`
		Selector labelSelector `yaml:"selector"`
		Template struct {
			Metadata meta `yaml:"metadata"`
			Spec     struct {
				TerminationGracePeriodSeconds *int  `yaml:"terminationGracePeriodSeconds"`
				AutomountServiceAccountToken  *bool `yaml:"automountServiceAccountToken"`
				SecurityContext               struct {
					RunAsNonRoot   *bool `yaml:"runAsNonRoot"`
					RunAsUser      *int  `yaml:"runAsUser"`
					SeccompProfile struct {
						Type string `yaml:"type"`
					} `yaml:"seccompProfile"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *ref   `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type service struct {
	header `yaml:",inline"`
	Spec   struct {
		Type     string            `yaml:"type"`
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type pdb struct {
	header `yaml:",inline"`
	Spec   struct {
		MinAvailable   any           `yaml:"minAvailable"`
		MaxUnavailable any           `yaml:"maxUnavailable"`
		Selector       labelSelector `yaml:"selector"`
	} `yaml:"spec"`
}

// kustomization is a kustomization.yaml: the Kustomization of kubernetes/
// or the Component of an override.
type kustomization struct {
	header     `yaml:",inline"`
	Namespace  string   `yaml:"namespace"`
	Resources  []string `yaml:"resources"`
	Components []string `yaml:"components"`
	Images     []struct {
		Name string `yaml:"name"`
	} `yaml:"images"`
	ConfigMapGenerator []struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
		Options   struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"options"`
		Files    []string `yaml:"files"`
		Literals []string `yaml:"literals"`
		Envs     []string `yaml:"envs"`
	} `yaml:"configMapGenerator"`
	Patches []struct {
		Path  string `yaml:"path"`
		Patch string `yaml:"patch"`
	} `yaml:"patches"`
}

// doc is one YAML document of a manifest file.
type doc struct {
	file string
	header
	node *yaml.Node
}

func (d doc) decode(t *testing.T, v any) {
	t.Helper()
	if err := d.node.Decode(v); err != nil {
		t.Fatalf("%s: %s %s: %v", d.file, d.Kind, d.Metadata.Name, err)
	}
}

// manifests is every document of every YAML file of a directory.
type manifests struct {
	dir   string
	files []string // base names, sorted
	docs  []doc
}

// readManifests reads kubernetes/, the manifests applied by default.
func readManifests(t *testing.T) manifests { return readDir(t, k8sDir) }

func readDir(t *testing.T, dir string) manifests {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := manifests{dir: dir}
	for _, path := range files {
		m.files = append(m.files, filepath.Base(path))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for i := 0; ; i++ {
			var n yaml.Node
			if err := dec.Decode(&n); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: document %d: %v", path, i+1, err)
			}
			if len(n.Content) == 0 || n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null" {
				continue // an empty document
			}
			d := doc{file: filepath.Base(path), node: &n}
			if err := n.Decode(&d.header); err != nil {
				t.Fatalf("%s: document %d: %v", path, i+1, err)
			}
			m.docs = append(m.docs, d)
		}
	}
	if len(m.docs) == 0 {
		t.Fatalf("no manifests in %s/", dir)
	}
	return m
}

// one returns the document of kind and name, decoded into v.
func (m manifests) one(t *testing.T, kind, name string, v any) {
	t.Helper()
	for _, d := range m.docs {
		if d.Kind == kind && d.Metadata.Name == name {
			d.decode(t, v)
			return
		}
	}
	t.Fatalf("%s/: no %s %q", m.dir, kind, name)
}

func (m manifests) all(kind string) []doc {
	var out []doc
	for _, d := range m.docs {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

// selects reports whether every label of sel is on labels.
func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestManifestHeaders(t *testing.T) {
	t.Parallel()
	apiVersions := map[string]string{
		"Namespace": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
		"Deployment": "apps/v1", "PodDisruptionBudget": "policy/v1",
		"Kustomization": "kustomize.config.k8s.io/v1beta1",
	}
	m := readManifests(t)
	seen := map[string]string{}
	for _, d := range m.docs {
		t.Run(d.file+"/"+d.Kind+"/"+d.Metadata.Name, func(t *testing.T) {
			want, known := apiVersions[d.Kind]
			if !known {
				t.Fatalf("%s: kind %q is not one this test knows; add it with its apiVersion", d.file, d.Kind)
			}
			if d.APIVersion != want {
				t.Errorf("%s: %s has apiVersion %q, want %q", d.file, d.Kind, d.APIVersion, want)
			}
			if d.Kind == "Kustomization" {
				return
			}
			if d.Metadata.Name == "" {
				t.Errorf("%s: a %s without metadata.name", d.file, d.Kind)
			}
			wantNS := namespace
			if d.Kind == "Namespace" {
				wantNS = ""
			}
			if d.Metadata.Namespace != wantNS {
				t.Errorf("%s: %s %s in namespace %q, want %q", d.file, d.Kind, d.Metadata.Name, d.Metadata.Namespace, wantNS)
			}
			if d.Metadata.Labels["app.kubernetes.io/name"] != "triage" {
				t.Errorf("%s: %s %s lacks the label app.kubernetes.io/name: triage", d.file, d.Kind, d.Metadata.Name)
			}
		})
		key := d.Kind + "/" + d.Metadata.Name
		if prev, dup := seen[key]; dup {
			t.Errorf("%s is defined in %s and in %s", key, prev, d.file)
		}
		seen[key] = d.file
	}
}

func TestKustomization(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	var k kustomization
	m.one(t, "Kustomization", "", &k)
	// Every manifest but the example Secret, which must never be applied
	// over the real one.
	var want []string
	for _, f := range m.files {
		if f != "kustomization.yaml" && f != "secret.example.yaml" {
			want = append(want, f)
		}
	}
	got := slices.Clone(k.Resources)
	slices.Sort(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("kustomization.yaml resources (-want +got):\n%s", d)
	}
	if k.Namespace != namespace {
		t.Errorf("kustomization.yaml namespace %q, want %q", k.Namespace, namespace)
	}
	var images []string
	for _, im := range k.Images {
		images = append(images, im.Name)
	}
	for _, d := range m.all("Deployment") {
		var dep deployment
		d.decode(t, &dep)
		for _, c := range dep.Spec.Template.Spec.Containers {
			if !slices.Contains(images, c.Image) {
				t.Errorf("%s: image %q is not set by kustomization.yaml images %v", d.file, c.Image, images)
			}
		}
	}
}

// k8sEnv is the environment the pods get: triage-env's data and
// triage-secrets' values.
func k8sEnv(t *testing.T, m manifests) (cm configMap, sec secret) {
	t.Helper()
	m.one(t, "ConfigMap", "triage-env", &cm)
	m.one(t, "Secret", "triage-secrets", &sec)
	return cm, sec
}

func TestEnvCoverage(t *testing.T) {
	t.Parallel()
	names := envVarNames(t)
	m := readManifests(t)
	cm, sec := k8sEnv(t, m)
	example := readEnvFile(t, envExample)
	if len(sec.Data) > 0 {
		t.Errorf("secret.example.yaml: use stringData (readable placeholders), not data")
	}

	var inBoth, secretInCM, plainInSecret []string
	merged := map[string]string{}
	for k, v := range cm.Data {
		merged[k] = v
		if secretish.MatchString(k) {
			secretInCM = append(secretInCM, k)
		}
	}
	for k, v := range sec.StringData {
		if _, dup := merged[k]; dup {
			inBoth = append(inBoth, k)
		}
		merged[k] = v
		if !secretish.MatchString(k) {
			plainInSecret = append(plainInSecret, k)
		}
	}

	tests := []struct {
		name      string
		got, want any
	}{
		{"triage.env.example sets every variable, and only those", sortedKeys(example), names},
		{"ConfigMap triage-env + Secret triage-secrets set every variable, and only those", sortedKeys(merged), names},
		{"variables in both the ConfigMap and the Secret", inBoth, []string(nil)},
		{"credentials in the ConfigMap", secretInCM, []string(nil)},
		{"non-credentials in the Secret", plainInSecret, []string(nil)},
		{"the Secret's keys", sortedKeys(sec.StringData), []string{"GRAPH_CLIENT_SECRET", "JIRA_API_TOKEN", "JIRA_PAT", "JIRA_WEBHOOK_SECRET", "TRIAGE_ADMIN_TOKEN", "TRIAGE_METRICS_TOKEN"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, d)
			}
		})
	}

	// Nothing that looks like a real credential is committed.
	t.Run("placeholders", func(t *testing.T) {
		t.Parallel()
		fakeToken := flagValues(readCompose(t).Services["fakejira"].Command)["token"]
		for k, v := range sec.StringData {
			if v != "" && !strings.HasPrefix(v, "replace-with-") {
				t.Errorf("secret.example.yaml: %s = %q: use \"\" or a replace-with-... placeholder", k, v)
			}
		}
		for k, v := range example {
			if secretish.MatchString(k) && v != "" && v != fakeToken && !strings.HasPrefix(v, "change-me-") {
				t.Errorf("triage.env.example: %s = %q: use \"\", the fake Jira's token or a change-me-... placeholder", k, v)
			}
		}
		if example["JIRA_PAT"] != "" && example["JIRA_API_TOKEN"] != "" || merged["JIRA_PAT"] != "" && merged["JIRA_API_TOKEN"] != "" {
			t.Error("JIRA_PAT and JIRA_API_TOKEN are both set: triage refuses both kinds of Jira credentials at once")
		}
	})
}

// deploySummary is what the test asserts about a Deployment.
type deploySummary struct {
	Replicas      int
	Args          []string
	ContainerPort int
	Readiness     string // httpGet path
	Liveness      string
	OtherProbes   bool // startup, tcp, exec or grpc probes
	EnvFrom       []string
	Volumes       []string          // the pod's volume names
	Mounts        map[string]string // mount path -> configMap[/subPath]

	PodRunAsNonRoot, RunAsNonRoot, ReadOnlyRoot bool
	NoPrivilegeEscalation, NotPrivileged        bool
	DroppedCaps, AddedCaps                      []string
	RunAsUser                                   int
	Seccomp                                     string
	NoServiceAccountToken                       bool
	Requests, Limits                            []string
	SelectorMatchesTemplate                     bool
}

func summarize(t *testing.T, d deployment) deploySummary {
	t.Helper()
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", d.Metadata.Name, len(pod.Containers))
	}
	c := pod.Containers[0]
	s := deploySummary{
		Args:                    c.Args,
		Mounts:                  map[string]string{},
		DroppedCaps:             c.SecurityContext.Capabilities.Drop,
		AddedCaps:               c.SecurityContext.Capabilities.Add,
		Seccomp:                 pod.SecurityContext.SeccompProfile.Type,
		SelectorMatchesTemplate: selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels),
		Requests:                sortedKeys(c.Resources.Requests),
		Limits:                  sortedKeys(c.Resources.Limits),
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	s.PodRunAsNonRoot = isTrue(pod.SecurityContext.RunAsNonRoot)
	s.RunAsNonRoot = isTrue(c.SecurityContext.RunAsNonRoot)
	s.ReadOnlyRoot = isTrue(c.SecurityContext.ReadOnlyRootFilesystem)
	s.NoPrivilegeEscalation = isFalse(c.SecurityContext.AllowPrivilegeEscalation)
	s.NotPrivileged = !isTrue(c.SecurityContext.Privileged)
	s.NoServiceAccountToken = isFalse(pod.AutomountServiceAccountToken)
	if d.Spec.Replicas != nil {
		s.Replicas = *d.Spec.Replicas
	}
	if pod.SecurityContext.RunAsUser != nil {
		s.RunAsUser = *pod.SecurityContext.RunAsUser
	}
	if len(c.Command) > 0 {
		t.Errorf("%s: command %v replaces the image's entrypoint /triage; set args", d.Metadata.Name, c.Command)
	}
	for _, p := range c.Ports {
		s.ContainerPort = p.ContainerPort
	}
	httpPath := func(p *probe) string {
		if p == nil {
			return ""
		}
		if p.TCPSocket != nil || p.Exec != nil || p.GRPC != nil {
			s.OtherProbes = true
		}
		if p.HTTPGet == nil {
			return ""
		}
		return p.HTTPGet.Path
	}
	s.Readiness, s.Liveness = httpPath(c.ReadinessProbe), httpPath(c.LivenessProbe)
	if c.StartupProbe != nil {
		s.OtherProbes = true
	}
	for _, e := range c.EnvFrom {
		switch {
		case e.ConfigMapRef != nil:
			s.EnvFrom = append(s.EnvFrom, "configMap/"+e.ConfigMapRef.Name)
		case e.SecretRef != nil:
			s.EnvFrom = append(s.EnvFrom, "secret/"+e.SecretRef.Name)
		}
	}
	volumes := map[string]string{}
	for _, v := range pod.Volumes {
		s.Volumes = append(s.Volumes, v.Name)
		if v.ConfigMap != nil {
			volumes[v.Name] = v.ConfigMap.Name
		}
	}
	for _, vm := range c.VolumeMounts {
		src, ok := volumes[vm.Name]
		if !ok {
			t.Errorf("%s: mount %s names no configMap volume", d.Metadata.Name, vm.Name)
		}
		if !vm.ReadOnly {
			t.Errorf("%s: mount %s is writable", d.Metadata.Name, vm.Name)
		}
		if vm.SubPath != "" {
			src += "/" + vm.SubPath
		}
		s.Mounts[vm.MountPath] = src
	}
	return s
}

func TestDeployments(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	cm, sec := k8sEnv(t, m)
	_, listenPort, err := net.SplitHostPort(cm.Data["TRIAGE_LISTEN"])
	if err != nil {
		t.Fatalf("triage-env TRIAGE_LISTEN %q: %v", cm.Data["TRIAGE_LISTEN"], err)
	}
	port, _ := strconv.Atoi(listenPort)
	// No volumes: the rules, templates and model are the image's
	// (TestEmbeddedByDefault; overrides/ adds mounts, TestOverrides).
	mounts := map[string]string{}
	envFrom := []string{"configMap/" + cm.Metadata.Name, "secret/" + sec.Metadata.Name}
	secure := func(s deploySummary) deploySummary {
		s.PodRunAsNonRoot, s.RunAsNonRoot, s.ReadOnlyRoot, s.NoPrivilegeEscalation, s.NotPrivileged = true, true, true, true, true
		s.DroppedCaps, s.RunAsUser, s.Seccomp = []string{"ALL"}, 65532, "RuntimeDefault"
		s.NoServiceAccountToken, s.SelectorMatchesTemplate = true, true
		s.Requests, s.Limits = []string{"cpu", "memory"}, []string{"cpu", "memory"}
		s.EnvFrom, s.Mounts = envFrom, mounts
		return s
	}

	tests := []struct {
		file, name, role string
		want             deploySummary
	}{
		{"intake-deployment.yaml", "triage-intake", "intake", secure(deploySummary{
			Replicas: 2, Args: []string{"intake"}, ContainerPort: port, Readiness: "/readyz", Liveness: "/healthz",
		})},
		// The worker opens no port: no probes, by the choice its file explains.
		{"worker-deployment.yaml", "triage-worker", "worker", secure(deploySummary{
			Replicas: 3, Args: []string{"worker"},
		})},
	}
	for _, tc := range tests {
		t.Run(tc.role, func(t *testing.T) {
			t.Parallel()
			var d deployment
			m.one(t, "Deployment", tc.name, &d)
			got := summarize(t, d)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.file, d)
			}
			if role := d.Spec.Template.Metadata.Labels["app.kubernetes.io/component"]; role != tc.role {
				t.Errorf("%s: pods labelled component %q, want %q", tc.file, role, tc.role)
			}
			for _, p := range []*probe{d.Spec.Template.Spec.Containers[0].ReadinessProbe, d.Spec.Template.Spec.Containers[0].LivenessProbe} {
				if p != nil && p.HTTPGet != nil && p.HTTPGet.Port != "http" && p.HTTPGet.Port != port {
					t.Errorf("%s: probe port %v, want http or %d", tc.file, p.HTTPGet.Port, port)
				}
			}
		})
	}

	t.Run("worker grace period exceeds TRIAGE_SHUTDOWN_TIMEOUT", func(t *testing.T) {
		t.Parallel()
		var d deployment
		m.one(t, "Deployment", "triage-worker", &d)
		shutdown, err := time.ParseDuration(cm.Data["TRIAGE_SHUTDOWN_TIMEOUT"])
		if err != nil {
			t.Fatalf("triage-env TRIAGE_SHUTDOWN_TIMEOUT: %v", err)
		}
		g := d.Spec.Template.Spec.TerminationGracePeriodSeconds
		if g == nil || time.Duration(*g)*time.Second <= shutdown {
			t.Errorf("terminationGracePeriodSeconds %v must exceed TRIAGE_SHUTDOWN_TIMEOUT %v", g, shutdown)
		}
	})
}

// podLabels maps each Deployment's name to its pods' labels.
func podLabels(t *testing.T, m manifests) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, doc := range m.all("Deployment") {
		var d deployment
		doc.decode(t, &d)
		out[d.Metadata.Name] = d.Spec.Template.Metadata.Labels
	}
	return out
}

func selected(sel map[string]string, pods map[string]map[string]string) []string {
	var out []string
	for name, labels := range pods {
		if selects(sel, labels) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func TestSelectors(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	pods := podLabels(t, m)
	var svc service
	m.one(t, "Service", "triage-intake", &svc)
	var intake deployment
	m.one(t, "Deployment", "triage-intake", &intake)

	type svcPort struct {
		Port       int
		TargetPort any
	}
	var ports []svcPort
	for _, p := range svc.Spec.Ports {
		ports = append(ports, svcPort{p.Port, p.TargetPort})
	}
	var named []string
	for _, p := range intake.Spec.Template.Spec.Containers[0].Ports {
		named = append(named, p.Name)
	}

	tests := []struct {
		name      string
		got, want any
	}{
		{"Service selects the intake pods only", selected(svc.Spec.Selector, pods), []string{"triage-intake"}},
		{"Service type", svc.Spec.Type, "ClusterIP"},
		{"Service ports", ports, []svcPort{{80, "http"}}},
		{"Service targets a named intake port", slices.Contains(named, "http"), true},
	}
	pdbs := map[string][]string{} // PDB name -> Deployments it covers
	for _, doc := range m.all("PodDisruptionBudget") {
		var p pdb
		doc.decode(t, &p)
		pdbs[p.Metadata.Name] = selected(p.Spec.Selector.MatchLabels, pods)
		tests = append(tests, struct {
			name      string
			got, want any
		}{"PDB " + p.Metadata.Name + " minAvailable", p.Spec.MinAvailable, 1})
	}
	tests = append(tests, struct {
		name      string
		got, want any
	}{"PDBs and the Deployments they cover", pdbs, map[string][]string{
		"triage-intake": {"triage-intake"},
		"triage-worker": {"triage-worker"},
	}})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, d)
			}
		})
	}
}

// embeddedVars name the files triage reads instead of those embedded in its
// image.
var embeddedVars = []string{"TRIAGE_MODEL", "TRIAGE_RULES", "TRIAGE_TEMPLATES_DIR"}

// TestEmbeddedByDefault: as shipped, triage runs with the rules, templates
// and model embedded in its image, so an image upgrade brings its own.
// Nothing mounts a copy that the upgrade would leave behind.
func TestEmbeddedByDefault(t *testing.T) {
	t.Parallel()
	m := readManifests(t)
	cm, _ := k8sEnv(t, m)
	var k kustomization
	m.one(t, "Kustomization", "", &k)
	var configMaps []string
	for _, d := range m.all("ConfigMap") {
		configMaps = append(configMaps, d.Metadata.Name)
	}
	paths := func(env map[string]string) map[string]string {
		out := map[string]string{}
		for _, name := range embeddedVars {
			if v, ok := env[name]; ok {
				out[name] = v
			} else {
				out[name] = "(missing)"
			}
		}
		return out
	}
	empty := paths(map[string]string{"TRIAGE_MODEL": "", "TRIAGE_RULES": "", "TRIAGE_TEMPLATES_DIR": ""})

	tests := []struct {
		name      string
		got, want any
	}{
		{"triage-env leaves the paths empty", paths(cm.Data), empty},
		{"triage.env.example leaves the paths empty", paths(readEnvFile(t, envExample)), empty},
		{"ConfigMaps applied by default", configMaps, []string{"triage-env"}},
		{"kustomization.yaml components (overrides are opt-in)", k.Components, []string(nil)},
		{"kustomization.yaml generators", len(k.ConfigMapGenerator), 0},
		{"docker-compose.yml triage volumes", readCompose(t).Services["triage"].Volumes, []string(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, d)
			}
		})
	}
}

// An override is a kustomize Component of kubernetes/overrides/: a ConfigMap
// generated from your files, mounted read-only into both Deployments, and
// the variable of triage-env that points triage at it.
type override struct {
	dir, configMap, env string
	file                string // the file env names in the mount; "": env names the directory
}

var overrides = []override{
	{dir: "rules", configMap: "triage-rules", env: "TRIAGE_RULES", file: "rules.yaml"},
	{dir: "templates", configMap: "triage-templates", env: "TRIAGE_TEMPLATES_DIR"},
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	base := readManifests(t)
	cm, _ := k8sEnv(t, base)
	containers := map[string]string{} // Deployment -> its container
	for _, d := range base.all("Deployment") {
		var dep deployment
		d.decode(t, &dep)
		containers[dep.Metadata.Name] = dep.Spec.Template.Spec.Containers[0].Name
	}

	found, err := filepath.Glob(filepath.Join(overrideDir, "*", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs, want []string
	for _, f := range found {
		dirs = append(dirs, filepath.Base(filepath.Dir(f)))
	}
	for _, o := range overrides {
		want = append(want, o.dir)
	}
	if d := cmp.Diff(want, dirs); d != "" {
		t.Errorf("components in %s/ (-tested +found):\n%s", overrideDir, d)
	}

	usedBy := map[string]string{} // mount path or volume name -> override
	for _, o := range overrides {
		t.Run(o.dir, func(t *testing.T) {
			m := readDir(t, filepath.Join(overrideDir, o.dir))
			mountPath := checkOverride(t, m, o, containers)
			for _, key := range []string{mountPath, "volume " + o.dir} {
				if prev, dup := usedBy[key]; dup {
					t.Errorf("overrides %s and %s both use %s", prev, o.dir, key)
				}
				usedBy[key] = o.dir
			}
			if v, ok := cm.Data[o.env]; !ok || v != "" {
				t.Errorf("triage-env %s = %q (set: %v): the override sets it, the default leaves it empty", o.env, v, ok)
			}
		})
	}
}

// checkOverride checks one override's Component and patches against the
// Deployments (name -> container), and returns its mount path.
func checkOverride(t *testing.T, m manifests, o override, containers map[string]string) string {
	t.Helper()
	var k kustomization
	m.one(t, "Component", "", &k)
	if k.APIVersion != "kustomize.config.k8s.io/v1alpha1" {
		t.Errorf("%s: apiVersion %q, want kustomize.config.k8s.io/v1alpha1", o.dir, k.APIVersion)
	}
	if len(k.ConfigMapGenerator) != 1 {
		t.Fatalf("%s: %d configMapGenerators, want 1", o.dir, len(k.ConfigMapGenerator))
	}
	gen := k.ConfigMapGenerator[0]
	type genSummary struct {
		Name, Namespace, Label string
		FromFilesOnly          bool
	}
	if d := cmp.Diff(genSummary{o.configMap, namespace, "triage", true},
		genSummary{gen.Name, gen.Namespace, gen.Options.Labels["app.kubernetes.io/name"], len(gen.Literals)+len(gen.Envs) == 0}); d != "" {
		t.Errorf("%s: configMapGenerator (-want +got):\n%s", o.dir, d)
	}
	var patches []string
	for _, p := range k.Patches {
		if p.Patch != "" {
			t.Errorf("%s: an inline patch; put it in a file the test reads", o.dir)
		}
		patches = append(patches, p.Path)
	}
	slices.Sort(patches)
	if d := cmp.Diff(slices.DeleteFunc(slices.Clone(m.files), func(f string) bool { return f == "kustomization.yaml" }), patches); d != "" {
		t.Errorf("%s: patches listed vs YAML files beside kustomization.yaml (-files +patches):\n%s", o.dir, d)
	}

	mountPaths := map[string]bool{}
	patched, envs := map[string]int{}, map[string]string{}
	for _, d := range m.docs {
		if d.Kind != "Component" && d.Metadata.Namespace != namespace {
			t.Errorf("%s/%s: %s %s in namespace %q, want %q", o.dir, d.file, d.Kind, d.Metadata.Name, d.Metadata.Namespace, namespace)
		}
		switch d.Kind {
		case "Component":
		case "ConfigMap":
			var c configMap
			d.decode(t, &c)
			if c.Metadata.Name != "triage-env" {
				t.Errorf("%s/%s: patches ConfigMap %s, want only triage-env", o.dir, d.file, c.Metadata.Name)
			}
			for k, v := range c.Data {
				envs[k] = v
			}
		case "Deployment":
			var dep deployment
			d.decode(t, &dep)
			patched[dep.Metadata.Name]++
			mountPaths[checkOverrideMount(t, o, gen.Name, dep, containers)] = true
		default:
			t.Errorf("%s/%s: patches a %s; an override patches triage-env and the Deployments", o.dir, d.file, d.Kind)
		}
	}
	everyOnce := map[string]int{}
	for name := range containers {
		everyOnce[name] = 1
	}
	if d := cmp.Diff(everyOnce, patched); d != "" {
		t.Errorf("%s: Deployments patched (-want +got):\n%s", o.dir, d)
	}
	if len(mountPaths) != 1 {
		t.Fatalf("%s: the Deployments mount it at %v, want one path", o.dir, sortedKeys(mountPaths))
	}
	mountPath := sortedKeys(mountPaths)[0]

	// The variable names the mount (or the one file in it).
	wantEnv := mountPath
	if o.file != "" {
		wantEnv = path.Join(mountPath, o.file)
		if !slices.Equal(gen.Files, []string{o.file}) {
			t.Errorf("%s: generator files %v, want [%s] (the file %s names)", o.dir, gen.Files, o.file, o.env)
		}
	}
	if d := cmp.Diff(map[string]string{o.env: wantEnv}, envs); d != "" {
		t.Errorf("%s: triage-env patch (-want +got):\n%s", o.dir, d)
	}
	if o.dir == "templates" {
		checkTemplateFiles(t, m.dir, gen.Files)
	}
	return mountPath
}

// checkOverrideMount checks that dep mounts only the ConfigMap configMap,
// read-only, into its container, and returns the mount path.
func checkOverrideMount(t *testing.T, o override, configMap string, dep deployment, containers map[string]string) string {
	t.Helper()
	pod := dep.Spec.Template.Spec
	want, ok := containers[dep.Metadata.Name]
	if !ok {
		t.Errorf("%s: patches Deployment %s, which kubernetes/ does not have", o.dir, dep.Metadata.Name)
	}
	if len(pod.Containers) != 1 || pod.Containers[0].Name != want || len(pod.Containers[0].VolumeMounts) != 1 || len(pod.Volumes) != 1 {
		t.Fatalf("%s: Deployment %s: want one container %q with one volumeMount, and one volume", o.dir, dep.Metadata.Name, want)
	}
	vm, v := pod.Containers[0].VolumeMounts[0], pod.Volumes[0]
	if !vm.ReadOnly {
		t.Errorf("%s: Deployment %s mounts %s writable", o.dir, dep.Metadata.Name, vm.Name)
	}
	if vm.SubPath != "" {
		t.Errorf("%s: Deployment %s mounts %s with subPath %q; mount the directory", o.dir, dep.Metadata.Name, vm.Name, vm.SubPath)
	}
	if vm.Name != o.dir || v.Name != o.dir || v.ConfigMap == nil || v.ConfigMap.Name != configMap {
		t.Errorf("%s: Deployment %s: mount %q of volume %q (configMap %v), want both named %q on the generated ConfigMap %s",
			o.dir, dep.Metadata.Name, vm.Name, v.Name, v.ConfigMap, o.dir, configMap)
	}
	if !strings.HasPrefix(vm.MountPath, "/etc/triage/") {
		t.Errorf("%s: Deployment %s mounts at %s, want under /etc/triage/", o.dir, dep.Metadata.Name, vm.MountPath)
	}
	return vm.MountPath
}

// checkTemplateFiles loads the template files the templates override lists,
// the way triage does.
func checkTemplateFiles(t *testing.T, dir string, files []string) {
	t.Helper()
	tmp := t.TempDir()
	for _, name := range files {
		text, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, filepath.Base(name)), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := templates.Load(tmp); err != nil {
		t.Errorf("%s: %v", dir, err)
	}
}

// ---------------------------------------------------------------------------
// The Dockerfile and build.sh

// dockerInstructions returns the Dockerfile's instructions, continuation
// lines joined, comments dropped.
func dockerInstructions(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || trimmed == "" && cur.Len() == 0 {
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(strings.TrimSpace(s) + " ")
			continue
		}
		cur.WriteString(trimmed)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	return out
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	ins := dockerInstructions(t)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	// the image builds with the toolchain go.mod names
	goLine := regexp.MustCompile(`(?m)^toolchain go(\d+\.\d+\.\d+)$`).FindSubmatch(gomod)
	if goLine == nil {
		t.Fatal("go.mod: no toolchain line")
	}
	var stages, runs []string
	final := map[string]string{} // instruction -> arguments, in the last stage
	for _, in := range ins {
		word, args, _ := strings.Cut(in, " ")
		switch word = strings.ToUpper(word); word {
		case "FROM":
			stages = append(stages, args)
			final = map[string]string{}
		case "RUN":
			runs = append(runs, args)
		}
		if word == "COPY" {
			final[word] += args + "; "
		} else {
			final[word] = args
		}
	}
	var buildRun string
	for _, r := range runs {
		if strings.Contains(r, "build.sh") {
			buildRun = r
		}
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"GO_VERSION is go.mod's toolchain", slices.Contains(ins, "ARG GO_VERSION="+string(goLine[1])), true},
		{"stages", stages, []string{"--platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build", "gcr.io/distroless/static-debian12:nonroot"}},
		{"builds through deploy/build.sh", strings.Contains(buildRun, "sh deploy/build.sh /out/triage ./cmd/triage"), true},
		{"no go build of its own", slices.ContainsFunc(runs, func(r string) bool { return strings.Contains(r, "go build") }), false},
		{"final COPY", final["COPY"], "--from=build /out/triage /triage; --from=build /out/healthcheck /healthcheck; "},
		{"USER", final["USER"], "nonroot"},
		{"EXPOSE", final["EXPOSE"], "8080"},
		{"ENTRYPOINT", final["ENTRYPOINT"], `["/triage"]`},
		{"CMD", final["CMD"], `["serve"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("deploy/Dockerfile: %s (-want +got):\n%s", tc.name, d)
			}
		})
	}
}

// TestToolchain: go.mod pins a Go release without the html/template and
// net/http advisories reachable from triage (fixed in 1.26.6), so that
// every build, CI's and the image's, uses one.
func TestToolchain(t *testing.T) {
	t.Parallel()
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^toolchain go1\.(\d+)\.(\d+)$`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no `toolchain go1.N.P` line: builds take whatever Go is installed")
	}
	minor, _ := strconv.Atoi(string(m[1]))
	patch, _ := strconv.Atoi(string(m[2]))
	if minor < 26 || minor == 26 && patch < 6 {
		t.Errorf("go.mod's toolchain is go1.%d.%d; use go1.26.6 or later", minor, patch)
	}
}

// buildWithScript runs build.sh, as the Dockerfile does, for this machine.
func buildWithScript(t *testing.T, out, pkg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./build.sh", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deploy/build.sh %s %s: %v\n%s", out, pkg, err, b)
	}
}

// run runs bin with args in exactly env (nothing inherited).
func run(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{}, env...) // non-nil: nothing inherited
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func envList(m map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// TestBuildScript builds triage with the image's flags and runs it: the
// Dockerfile builds the same binary as this.
func TestBuildScript(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "triage")
	buildWithScript(t, bin, "./cmd/triage")

	t.Run("--help", func(t *testing.T) {
		t.Parallel()
		out, err := run(t, bin, nil, "--help")
		if err != nil {
			t.Fatalf("triage --help: %v\n%s", err, out)
		}
		for _, cmd := range []string{"serve", "intake", "worker", "fakejira"} {
			if !regexp.MustCompile(`(?m)^\s+` + cmd + `\s`).MatchString(out) {
				t.Errorf("triage --help lists no %q command, which the deployment runs:\n%s", cmd, out)
			}
		}
	})

	t.Run("build flags", func(t *testing.T) {
		t.Parallel()
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		// Go does not record -ldflags under -trimpath; "static" checks -s -w.
		got := map[string]string{}
		for _, s := range info.Settings {
			if strings.HasPrefix(s.Key, "vcs") || slices.Contains([]string{"-trimpath", "CGO_ENABLED"}, s.Key) {
				got[s.Key] = s.Value
			}
		}
		want := map[string]string{"-trimpath": "true", "CGO_ENABLED": "0"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("build settings of deploy/build.sh's binary (-want +got; vcs.* means -buildvcs=false is gone):\n%s", d)
		}
		if info.Path != "github.com/mfatriage/triage/cmd/triage" {
			t.Errorf("built %s, want github.com/mfatriage/triage/cmd/triage", info.Path)
		}
	})

	t.Run("static, stripped", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS != "linux" {
			t.Logf("ELF check only on linux, not %s", runtime.GOOS)
			return
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the binary asks for a dynamic loader: it would not run on distroless/static")
			}
		}
		// -ldflags "-s -w": no symbol table, no DWARF.
		for _, sec := range f.Sections {
			if sec.Name == ".symtab" || strings.HasPrefix(sec.Name, ".debug") || strings.HasPrefix(sec.Name, ".zdebug") {
				t.Errorf("the binary has a %s section: built without -ldflags \"-s -w\"?", sec.Name)
			}
		}
	})

	// triage config check accepts the shipped configurations, the
	// Kubernetes one once its replace-with-... placeholders are filled in;
	// as shipped, it refuses the admin token's placeholder.
	m := readManifests(t)
	cm, sec := k8sEnv(t, m)
	k8s, filled := map[string]string{}, map[string]string{}
	for k, v := range cm.Data {
		k8s[k], filled[k] = v, v
	}
	for k, v := range sec.StringData {
		k8s[k], filled[k] = v, v
		if strings.HasPrefix(v, "replace-with-") {
			filled[k] = "9f3c1e7a5b2d8064c1e9a7f3b5d20846" // what openssl rand -hex 16 gives
		}
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"config check triage.env.example", readEnvFile(t, envExample), []string{"the configuration is valid"}},
		{"config check triage-env + triage-secrets filled in", filled, []string{"the configuration is valid"}},
		{"config check triage-env + triage-secrets as shipped", k8s, []string{"TRIAGE_ADMIN_TOKEN is a placeholder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := run(t, bin, envList(tc.env), "config", "check")
			for _, want := range tc.want {
				if !strings.Contains(out, want) || (err == nil) != (want == "the configuration is valid") {
					t.Errorf("triage config check: %v, want %q\n%s", err, want, out)
				}
			}
		})
	}
}

// TestHealthcheck builds the image's healthcheck binary and runs it against
// healthy, failing and absent endpoints.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "healthcheck")
	buildWithScript(t, bin, "./deploy/healthcheck")

	serve := func(status int) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	ok, failing := serve(http.StatusOK), serve(http.StatusServiceUnavailable)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, okPort, _ := net.SplitHostPort(ok.Listener.Addr().String())

	tests := []struct {
		name string
		env  []string
		args []string
		want int
	}{
		{"healthy", nil, []string{ok.URL + "/healthz"}, 0},
		{"503", nil, []string{failing.URL + "/healthz"}, 1},
		{"wrong path", nil, []string{ok.URL + "/nope"}, 1},
		{"nothing listening", nil, []string{closed.URL + "/healthz"}, 1},
		{"URL from TRIAGE_LISTEN", []string{"TRIAGE_LISTEN=:" + okPort}, nil, 0},
		{"URL from TRIAGE_LISTEN 0.0.0.0", []string{"TRIAGE_LISTEN=0.0.0.0:" + okPort}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := run(t, bin, tc.env, tc.args...)
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.want {
				t.Errorf("healthcheck %v: exit %d, want %d\n%s", tc.args, code, tc.want, out)
			}
		})
	}
}

// TestBuildScriptExecutable: the README and CI run deploy/build.sh directly.
func TestBuildScriptExecutable(t *testing.T) {
	t.Parallel()
	fi, err := os.Stat("build.sh")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("deploy/build.sh is not executable (%v): chmod +x deploy/build.sh", fi.Mode())
	}
}
