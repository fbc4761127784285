package storage

import "time"

// SetQueueClock makes the queue read the time from now (retention tests).
func SetQueueClock(q *Queue, now func() time.Time) { q.now = now }
