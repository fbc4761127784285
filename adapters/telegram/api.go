package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// apiResponse is the Bot API's envelope, its result left undecoded.
type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// maxAPIAnswerBytes bounds an answer read by callJSON: 100 updates of the
// largest kind stay far below.
const maxAPIAnswerBytes = 64 << 20

// callJSON makes one Bot API call as a plain JSON request, for the
// answers go-telegram/bot would refuse to decode (update kinds or member
// statuses it does not know yet). The error is about the exchange only;
// Telegram's own refusals are in the envelope.
func (a *Adapter) callJSON(ctx context.Context, method string, params any) (apiResponse, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return apiResponse{}, fmt.Errorf("encode %s: %w", method, err)
	}
	url := a.cfg.APIURL + "/bot" + a.cfg.Token + "/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return apiResponse{}, fmt.Errorf("%s request: %s", method, redactToken(err.Error(), a.cfg.Token))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return apiResponse{}, fmt.Errorf("%s: %s", method, redactToken(err.Error(), a.cfg.Token))
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIAnswerBytes)).Decode(&r); err != nil {
		return apiResponse{}, fmt.Errorf("%s: HTTP %d, unreadable answer: %w", method, resp.StatusCode, err)
	}
	return r, nil
}
