package telegram

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The roster's clock and bound, which the tests against the fake Bot API
// cannot reach.
func TestRosterCacheExpiresAndStaysBounded(t *testing.T) {
	var lookups atomic.Int64
	members := map[int64]bool{7: true}
	r := newRoster(-100, func(_ context.Context, chat, user int64) (bool, error) {
		require.Equal(t, int64(-100), chat)
		lookups.Add(1)
		return members[user], nil
	})
	now := time.Unix(1_700_000_000, 0)
	r.now = func() time.Time { return now }
	ctx := context.Background()

	ok, err := r.HelpdeskMember(ctx, "7")
	require.NoError(t, err)
	require.True(t, ok)
	now = now.Add(rosterTTL - time.Second)
	ok, _ = r.HelpdeskMember(ctx, "7")
	require.True(t, ok)
	require.EqualValues(t, 1, lookups.Load(), "fresh: from the cache")

	delete(members, 7) // removed from the group
	now = now.Add(2 * time.Second)
	ok, err = r.HelpdeskMember(ctx, "7")
	require.NoError(t, err)
	require.False(t, ok, "an expired answer is asked again")
	require.EqualValues(t, 2, lookups.Load())

	for u := range int64(3 * maxRosterEntries) {
		_, err := r.HelpdeskMember(ctx, strconv.FormatInt(u+1000, 10))
		require.NoError(t, err)
	}
	require.LessOrEqual(t, len(r.known), maxRosterEntries)
}

func TestRosterConcurrentUse(t *testing.T) {
	r := newRoster(-100, func(context.Context, int64, int64) (bool, error) { return true, nil })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for u := range 200 {
				_, err := r.HelpdeskMember(context.Background(), strconv.Itoa(i*1000+u+1))
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()
}

func TestRosterErrorIsNotCached(t *testing.T) {
	fail := true
	r := newRoster(-100, func(context.Context, int64, int64) (bool, error) {
		if fail {
			return false, errors.New("network down")
		}
		return true, nil
	})
	_, err := r.HelpdeskMember(context.Background(), "7")
	require.ErrorContains(t, err, "network down")
	require.ErrorContains(t, err, "helpdesk group -100")
	fail = false
	ok, err := r.HelpdeskMember(context.Background(), "7")
	require.NoError(t, err)
	require.True(t, ok)
}
