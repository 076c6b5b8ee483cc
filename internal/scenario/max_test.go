package scenario

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMaxClass(t *testing.T) {
	t.Parallel()
	c, err := MaxClass("/status")
	require.NoError(t, err)
	require.NoError(t, c.Validate())
	assert.Equal(t, MaxClassName, c.Name)
	assert.False(t, c.Wait.Schedules())
	for _, bad := range []string{"", "status", "/a b", "http://x/status"} {
		_, err := MaxClass(bad)
		assert.Error(t, err, bad)
	}
}
