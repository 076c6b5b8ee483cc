// Package k8s holds the Kubernetes manifest of distributed runs; its test
// checks the fields a distributed run depends on.
package k8s

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// job is the part of a batch/v1 Job the harness relies on.
type job struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Spec       struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		BackoffLimit   *int   `yaml:"backoffLimit"`
		Template       struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Command []string `yaml:"command"`
					Args    []string `yaml:"args"`
					Env     []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name string `yaml:"name"`
					PVC  *struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func TestIndexedJobManifest(t *testing.T) {
	data, err := os.ReadFile("job.yaml")
	require.NoError(t, err)
	var j job
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	require.NoError(t, dec.Decode(&j))
	assert.Equal(t, "batch/v1", j.APIVersion)
	assert.Equal(t, "Job", j.Kind)
	assert.Equal(t, "Indexed", j.Spec.CompletionMode, "JOB_COMPLETION_INDEX exists only in Indexed mode")
	assert.Positive(t, j.Spec.Completions)
	assert.Equal(t, j.Spec.Completions, j.Spec.Parallelism, "all segments must run at once to share -start-at")
	require.NotNil(t, j.Spec.BackoffLimit)
	assert.Zero(t, *j.Spec.BackoffLimit, "a retried segment would run its load twice")
	pod := j.Spec.Template.Spec
	assert.Equal(t, "Never", pod.RestartPolicy)
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	assert.Equal(t, strconv.Itoa(j.Spec.Completions), env["SEGMENTS"], "SEGMENTS must equal completions")
	cmd := strings.Join(append(c.Command, c.Args...), " ")
	for _, want := range []string{`-segment "$((JOB_COMPLETION_INDEX + 1))/$SEGMENTS"`, `-start-at "$START_AT"`,
		"-json-file \"/results/seg-$((JOB_COMPLETION_INDEX + 1)).json\"", "-test.timeout 0", `-host "$HOST"`} {
		assert.Contains(t, cmd, want)
	}
	for _, name := range []string{"HOST", "USERS", "SPAWN_RATE", "DURATION", "START_AT", "TEST"} {
		assert.NotEmpty(t, env[name], name)
	}
	require.Len(t, c.VolumeMounts, 1)
	assert.Equal(t, "/results", c.VolumeMounts[0].MountPath)
	require.Len(t, pod.Volumes, 1)
	assert.Equal(t, c.VolumeMounts[0].Name, pod.Volumes[0].Name)
	require.NotNil(t, pod.Volumes[0].PVC, "the segments' files must land on one shared volume")
}
