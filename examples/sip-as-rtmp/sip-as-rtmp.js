/*
 * sipcast "SIP as RTMP": asks the server's REST API to place a SIP call whose media becomes a
 * named stream (watch it in the Player), and optionally pushes that stream to an RTMP server.
 *
 * REST (docs/rest-api.md): /call/startup, /call/find (polled every 5 s; 404 = the call is gone,
 * shown as FINISHED), /call/terminate, /call/send_dtmf, /push/startup, /push/terminate,
 * /push/mute, /push/unmute. Errors come back as {error, message}; the message is shown.
 *
 * The REST URL defaults to window.SIPCAST_CONFIG.restUrl (from /sipcast-config.js, optional),
 * else <page origin>/rest-api.
 *
 * For tests: window.sipAsRtmp.state() -> {callId, status, streamName, lastError}; status is the
 * text of #callStatus: a CALL_STATUS from /call/find, or FINISHED, or null before the first one.
 */
(function () {
    'use strict';

    var POLL_MS = 5000;
    var FIRST_POLL_MS = 1000;
    var REQUEST_TIMEOUT_MS = 10000;
    var STORAGE_KEY = 'sipcast.sipAsRtmp';
    var FINISHED = 'FINISHED';
    var ENDED = { FINISH: true, FAILED: true, BUSY: true };

    var DEMO = {
        sipLogin: 'caller',
        sipAuthenticationName: '',
        sipPassword: '',
        sipDomain: '127.0.0.1:5090',
        sipOutboundProxy: '',
        sipPort: '',
        sipTransport: 'UDP',
        appKey: 'defaultApp',
        sipRegisterRequired: false,
        hasAudio: true,
        hasVideo: true,
        callee: 'demo'
    };
    // Remembered between visits (never the password or the token).
    var REMEMBERED = ['sipLogin', 'sipAuthenticationName', 'sipDomain', 'sipOutboundProxy', 'sipPort',
        'sipTransport', 'appKey', 'sipRegisterRequired', 'hasAudio', 'hasVideo', 'callee', 'rtmpUrl',
        'rtmpStream', 'rtmpOnCall'];

    function byId(id) {
        return document.getElementById(id);
    }

    var ui = {};
    ['restUrl', 'restToken', 'sipLogin', 'sipAuthenticationName', 'sipPassword', 'sipDomain',
        'sipOutboundProxy', 'sipPort', 'sipTransport', 'appKey', 'sipRegisterRequired', 'hasAudio',
        'hasVideo', 'demoBtn', 'callee', 'callBtn', 'toStream', 'watchLink', 'dtmf', 'dtmfType', 'dtmfBtn',
        'callStatus', 'callInfo', 'callTrace', 'dtmfStatus', 'rtmpUrl', 'rtmpStream', 'rtmpOnCall',
        'startRtmp', 'mute', 'player', 'restStatus'].forEach(function (id) {
        ui[id] = byId(id);
    });

    var config = window.SIPCAST_CONFIG || {};

    // ---- state ------------------------------------------------------------------------------

    // idle -> starting -> live -> hanging -> live | idle
    var mode = 'idle';
    var call = {
        id: null,          // callId of the current (or last) call
        stream: null,      // its toStream
        status: null,      // text of #callStatus
        last: null         // last Call object seen in /call/find
    };
    var lastError = null;
    var nextCallId = generateCallId();
    var autoStream = true; // #toStream still holds the generated call-<callId>
    var pollTimer = null;
    var polling = false;

    var push = {
        mode: 'idle',      // idle -> starting -> live -> stopping -> idle
        id: null,          // mediaSessionId
        stream: null,
        target: null
    };

    window.sipAsRtmp = {
        state: function () {
            return {
                callId: call.id,
                status: call.status,
                streamName: call.stream || ui.toStream.value.trim() || null,
                lastError: lastError
            };
        }
    };

    // ---- helpers ----------------------------------------------------------------------------

    function generateCallId() {
        var alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
        var bytes = new Uint8Array(16);
        (window.crypto || window.msCrypto).getRandomValues(bytes);
        var id = '';
        for (var i = 0; i < bytes.length; i++) {
            if (i && i % 4 === 0) id += '-';
            id += alphabet.charAt(bytes[i] % alphabet.length);
        }
        return id;
    }

    function val(id) {
        return ui[id].value.trim();
    }

    function defaultRestUrl() {
        if (typeof config.restUrl === 'string' && config.restUrl) return config.restUrl;
        if (/^https?:$/.test(location.protocol)) return location.origin + '/rest-api';
        return 'http://localhost:8081/rest-api';
    }

    function setText(el, text) {
        el.textContent = text || '';
    }

    function setError(message) {
        lastError = message;
    }

    /**
     * POST <restUrl>/<method> with a JSON body. Resolves (never rejects) with
     * {ok, status, data, message}: status 0 for a network error or a timeout.
     */
    function rest(method, body) {
        var base = val('restUrl').replace(/\/+$/, '');
        var headers = { 'Content-Type': 'application/json' };
        var token = val('restToken');
        if (token) headers.Authorization = 'Bearer ' + token;
        var controller = window.AbortController ? new AbortController() : null;
        var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
        return fetch(base + '/' + method, {
            method: 'POST',
            headers: headers,
            body: JSON.stringify(body || {}),
            cache: 'no-store',
            signal: controller ? controller.signal : undefined
        }).then(function (res) {
            return res.text().then(function (text) {
                var data = null;
                if (text) {
                    try { data = JSON.parse(text); } catch (e) { data = null; }
                }
                var message = '';
                if (!res.ok) {
                    var detail = (data && (data.message || data.error)) || text.slice(0, 200) || res.statusText;
                    message = 'HTTP ' + res.status + (detail ? ': ' + detail : '');
                }
                return { ok: res.ok, status: res.status, data: data, message: message };
            });
        }, function (err) {
            var reason = err && err.name === 'AbortError' ? 'no answer in ' + REQUEST_TIMEOUT_MS / 1000 + ' s'
                : (err && err.message) || String(err);
            return { ok: false, status: 0, data: null, message: 'Cannot reach ' + base + '/' + method + ': ' + reason };
        }).then(function (result) {
            if (timer) clearTimeout(timer);
            return result;
        });
    }

    // ---- fields -------------------------------------------------------------------------------

    function setField(id, value) {
        var el = ui[id];
        if (el.type === 'checkbox') el.checked = !!value;
        else el.value = value == null ? '' : String(value);
    }

    function applyDemo() {
        Object.keys(DEMO).forEach(function (id) { setField(id, DEMO[id]); });
        ['sipLogin', 'sipDomain', 'callee'].forEach(function (id) { markInvalid(id, false); });
    }

    function restore() {
        var saved = null;
        try { saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null'); } catch (e) { saved = null; }
        if (!saved || typeof saved !== 'object') return;
        REMEMBERED.forEach(function (id) {
            if (Object.prototype.hasOwnProperty.call(saved, id)) setField(id, saved[id]);
        });
    }

    function remember() {
        var saved = {};
        REMEMBERED.forEach(function (id) {
            var el = ui[id];
            saved[id] = el.type === 'checkbox' ? el.checked : el.value;
        });
        try { localStorage.setItem(STORAGE_KEY, JSON.stringify(saved)); } catch (e) { /* private mode */ }
    }

    function markInvalid(id, bad) {
        ui[id].classList.toggle('invalid', bad);
        if (bad) ui[id].setAttribute('aria-invalid', 'true');
        else ui[id].removeAttribute('aria-invalid');
    }

    /** Returns the ids of required fields that are empty, marking them. */
    function checkRequired(ids) {
        var missing = [];
        ids.forEach(function (id) {
            var empty = !val(id);
            markInvalid(id, empty);
            if (empty) missing.push(id);
        });
        if (missing.length) ui[missing[0]].focus();
        return missing;
    }

    function streamName() {
        return val('toStream');
    }

    function updateWatchLink() {
        var name = call.stream && mode !== 'idle' ? call.stream : streamName();
        ui.watchLink.href = '/player/?streamName=' + encodeURIComponent(name) + '&autoplay';
        ui.watchLink.setAttribute('aria-disabled', name ? 'false' : 'true');
        ui.watchLink.title = name ? 'Play ' + name + ' in the Player (new tab)' : 'Enter a stream name first';
    }

    function prepareNextCall() {
        nextCallId = generateCallId();
        if (autoStream || !streamName()) {
            ui.toStream.value = 'call-' + nextCallId;
            autoStream = true;
            markInvalid('toStream', false);
        }
        updateWatchLink();
    }

    // ---- call ---------------------------------------------------------------------------------

    function setMode(next) {
        mode = next;
        var busy = next !== 'idle';
        ui.callBtn.textContent = busy && next !== 'starting' ? 'Hangup' : 'Call';
        ui.callBtn.classList.toggle('btn-hangup', busy && next !== 'starting');
        ui.callBtn.disabled = next === 'starting' || next === 'hanging';
        ui.callee.disabled = busy;
        ui.toStream.disabled = busy;
        ui.rtmpOnCall.disabled = busy;
        ui.dtmfBtn.disabled = !(next === 'live' && call.status === 'ESTABLISHED');
        var sipFields = ['sipLogin', 'sipAuthenticationName', 'sipPassword', 'sipDomain', 'sipOutboundProxy',
            'sipPort', 'sipTransport', 'appKey', 'sipRegisterRequired', 'hasAudio', 'hasVideo', 'demoBtn'];
        sipFields.forEach(function (id) { ui[id].disabled = busy; });
        updateWatchLink();
    }

    function showStatus(status, info) {
        call.status = status || null;
        setText(ui.callStatus, status);
        ui.callStatus.setAttribute('data-status', status || '');
        setText(ui.callInfo, info);
        ui.dtmfBtn.disabled = !(mode === 'live' && status === 'ESTABLISHED');
    }

    function describe(c) {
        var parts = [];
        if (c.sipStatus) parts.push('SIP ' + c.sipStatus);
        if (c.info) parts.push(c.info);
        return parts.join(' · ');
    }

    function buildStartup(callId, toStream) {
        var body = {
            callId: callId,
            callee: val('callee'),
            toStream: toStream,
            hasAudio: ui.hasAudio.checked,
            hasVideo: ui.hasVideo.checked,
            sipLogin: val('sipLogin'),
            sipDomain: val('sipDomain'),
            sipTransport: ui.sipTransport.value,
            sipRegisterRequired: ui.sipRegisterRequired.checked
        };
        // Optional fields go only when filled: an empty sipPort is not a number.
        ['sipAuthenticationName', 'sipOutboundProxy', 'sipPort', 'appKey'].forEach(function (id) {
            if (val(id)) body[id] = val(id);
        });
        if (ui.sipPassword.value) body.sipPassword = ui.sipPassword.value;
        if (ui.rtmpOnCall.checked) {
            body.rtmpUrl = val('rtmpUrl');
            body.rtmpStream = val('rtmpStream');
        }
        return body;
    }

    function startCall() {
        var required = ['restUrl', 'sipLogin', 'sipDomain', 'callee', 'toStream'];
        if (ui.rtmpOnCall.checked) required.push('rtmpUrl', 'rtmpStream');
        var missing = checkRequired(required);
        if (missing.length) {
            var names = missing.map(function (id) {
                var label = document.querySelector('label[for="' + id + '"]');
                return label ? label.textContent.trim() : id;
            });
            setError('Fill in: ' + names.join(', '));
            setText(ui.callInfo, lastError);
            return;
        }
        if (val('sipPort') && !/^\d{1,5}$/.test(val('sipPort'))) {
            markInvalid('sipPort', true);
            setError('Port must be a number');
            setText(ui.callInfo, lastError);
            return;
        }
        markInvalid('sipPort', false);
        remember();

        var callId = nextCallId;
        var toStream = streamName();
        stopPolling();
        call = { id: callId, stream: toStream, status: null, last: null };
        setError(null);
        setMode('starting');
        showStatus(null, 'Placing the call…');
        setText(ui.dtmfStatus, '');
        var trace = callId + ' → stream ' + toStream;
        if (ui.rtmpOnCall.checked) {
            trace += ' → ' + rtmpTarget(val('rtmpUrl'), val('rtmpStream'), toStream).url;
            showPlaybackUrl(rtmpTarget(val('rtmpUrl'), val('rtmpStream'), toStream).url);
        }
        setText(ui.callTrace, trace);

        rest('call/startup', buildStartup(callId, toStream)).then(function (res) {
            if (call.id !== callId) return;
            if (!res.ok) {
                setError(res.message);
                setMode('idle');
                showStatus('FAILED', res.message);
                prepareNextCall();
                return;
            }
            setMode('live');
            showStatus(null, 'Call placed, waiting for the callee…');
            schedulePoll(FIRST_POLL_MS);
        });
    }

    function hangup() {
        var callId = call.id;
        setMode('hanging');
        rest('call/terminate', { callId: callId }).then(function (res) {
            if (call.id !== callId) return;
            if (res.status === 404) {
                finish();
                return;
            }
            if (!res.ok) {
                setError(res.message);
                setText(ui.callInfo, res.message);
                setMode('live');
                return;
            }
            setText(ui.callInfo, 'Hangup sent');
            setMode('live');
            schedulePoll(FIRST_POLL_MS);
        });
    }

    /** The call is gone (404 from /call/find or /call/terminate). */
    function finish() {
        stopPolling();
        var last = call.last;
        var info = last ? 'Last status ' + last.status + (describe(last) ? ' · ' + describe(last) : '') : '';
        setMode('idle');
        showStatus(FINISHED, info);
        if (push.mode !== 'idle' && push.stream === call.stream) pushEnded('The call ended, so did its RTMP push');
        prepareNextCall();
    }

    function schedulePoll(delay) {
        if (pollTimer) clearTimeout(pollTimer);
        pollTimer = setTimeout(poll, delay);
    }

    function stopPolling() {
        if (pollTimer) clearTimeout(pollTimer);
        pollTimer = null;
    }

    function poll() {
        pollTimer = null;
        if (mode !== 'live' && mode !== 'hanging') return;
        if (polling) {
            schedulePoll(POLL_MS);
            return;
        }
        var callId = call.id;
        polling = true;
        rest('call/find', { callId: callId }).then(function (res) {
            polling = false;
            if (call.id !== callId || mode === 'idle') return;
            if (res.status === 404) {
                finish();
                return;
            }
            var c = res.ok && Array.isArray(res.data) ? res.data[0] : null;
            if (c && c.status) {
                call.last = c;
                showStatus(String(c.status), describe(c));
                schedulePoll(ENDED[c.status] ? FIRST_POLL_MS : POLL_MS);
                return;
            }
            // Network trouble or an unexpected answer: say so, keep the last status, try again.
            var message = res.ok ? 'Unexpected /call/find answer' : res.message;
            setError(message);
            setText(ui.callInfo, message);
            schedulePoll(POLL_MS);
        });
    }

    function sendDtmf() {
        var digits = val('dtmf').toUpperCase();
        if (!/^[0-9*#A-D]+$/.test(digits)) {
            markInvalid('dtmf', true);
            setText(ui.dtmfStatus, 'DTMF: digits 0-9, *, #, A-D');
            return;
        }
        markInvalid('dtmf', false);
        var type = ui.dtmfType.value;
        ui.dtmfBtn.disabled = true;
        rest('call/send_dtmf', { callId: call.id, dtmf: digits, type: type }).then(function (res) {
            ui.dtmfBtn.disabled = !(mode === 'live' && call.status === 'ESTABLISHED');
            if (res.ok) {
                setText(ui.dtmfStatus, 'DTMF ' + digits + ' sent (' + type + ')');
            } else {
                setError(res.message);
                setText(ui.dtmfStatus, 'DTMF not sent: ' + res.message);
            }
        });
    }

    // ---- RTMP push ----------------------------------------------------------------------------

    /**
     * Without a stream name the server pushes to rtmpUrl + "/rtmp_" + streamName (as WCS does);
     * with one, rtmpUrl + "/" + rtmpStream is the full target (rtmpTransponderFullUrl).
     */
    function rtmpTarget(rtmpUrl, rtmpStream, stream) {
        var base = rtmpUrl.replace(/\/+$/, '');
        if (rtmpStream) return { url: base + '/' + rtmpStream, full: true };
        return { url: base + '/rtmp_' + stream, full: false };
    }

    function showPlaybackUrl(url) {
        // The RTMP server is usually next to this one: show it as a third-party player reaches it.
        var shown = url.replace(/\/\/(localhost|127\.0\.0\.1)([:/])/, '//' + (location.hostname || '$1') + '$2');
        setText(ui.player, shown);
    }

    function setPushMode(next) {
        push.mode = next;
        ui.startRtmp.textContent = next === 'idle' || next === 'starting' ? 'Start' : 'Stop';
        ui.startRtmp.classList.toggle('btn-hangup', next === 'live' || next === 'stopping');
        ui.startRtmp.disabled = next === 'starting' || next === 'stopping';
        ui.rtmpUrl.disabled = next !== 'idle';
        ui.rtmpStream.disabled = next !== 'idle';
        ui.mute.disabled = next !== 'live' && next !== 'idle';
    }

    function pushEnded(message) {
        push.id = null;
        setPushMode('idle');
        if (message) setText(ui.restStatus, message);
    }

    function startPush() {
        var stream = call.stream && mode !== 'idle' ? call.stream : streamName();
        if (!stream) {
            markInvalid('toStream', true);
            setText(ui.restStatus, 'Fill in the stream name to push');
            return;
        }
        if (checkRequired(['restUrl', 'rtmpUrl']).length) {
            setText(ui.restStatus, 'Fill in the RTMP URL');
            return;
        }
        if (!/^rtmps?:\/\//i.test(val('rtmpUrl'))) {
            markInvalid('rtmpUrl', true);
            setText(ui.restStatus, 'The RTMP URL starts with rtmp:// or rtmps://');
            return;
        }
        remember();
        var target = rtmpTarget(val('rtmpUrl'), val('rtmpStream'), stream);
        var body = { streamName: stream, rtmpUrl: target.full ? target.url : val('rtmpUrl').replace(/\/+$/, '') };
        if (target.full) body.rtmpTransponderFullUrl = true;
        if (ui.mute.checked) body.options = { action: 'mute' };
        push.stream = stream;
        push.target = target.url;
        setPushMode('starting');
        setText(ui.restStatus, 'Starting the RTMP push…');
        rest('push/startup', body).then(function (res) {
            if (push.mode !== 'starting') return;
            if (!res.ok) {
                setError(res.message);
                setText(ui.player, 'Not connected');
                pushEnded('RTMP push failed: ' + res.message);
                return;
            }
            var d = res.data || {};
            push.id = d.mediaSessionId || null;
            if (typeof d.muted === 'boolean') ui.mute.checked = d.muted;
            setPushMode('live');
            showPlaybackUrl(target.url);
            setText(ui.restStatus, 'Pushing ' + stream + ' to ' + target.url);
        });
    }

    function stopPush() {
        setPushMode('stopping');
        rest('push/terminate', { mediaSessionId: push.id }).then(function (res) {
            if (res.ok || res.status === 404) {
                pushEnded(res.ok ? 'RTMP push stopped' : 'RTMP push already gone (' + res.message + ')');
                return;
            }
            setError(res.message);
            setPushMode('live');
            setText(ui.restStatus, 'Could not stop the RTMP push: ' + res.message);
        });
    }

    function toggleMute() {
        if (push.mode !== 'live') return; // before Start the switch only sets the initial state
        var wanted = ui.mute.checked;
        ui.mute.disabled = true;
        rest(wanted ? 'push/mute' : 'push/unmute', { mediaSessionId: push.id }).then(function (res) {
            ui.mute.disabled = push.mode !== 'live' && push.mode !== 'idle';
            if (res.ok) {
                setText(ui.restStatus, wanted ? 'RTMP audio muted' : 'RTMP audio unmuted');
                return;
            }
            ui.mute.checked = !wanted;
            setError(res.message);
            setText(ui.restStatus, (wanted ? 'Mute' : 'Unmute') + ' failed: ' + res.message);
        });
    }

    // ---- wiring -------------------------------------------------------------------------------

    ui.restUrl.value = defaultRestUrl();
    applyDemo();
    restore();
    prepareNextCall();
    setMode('idle');
    setPushMode('idle');

    ui.callBtn.addEventListener('click', function () {
        if (mode === 'idle') startCall();
        else if (mode === 'live') hangup();
    });
    ui.callee.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' && mode === 'idle') startCall();
    });
    ui.toStream.addEventListener('input', function () {
        autoStream = ui.toStream.value.trim() === 'call-' + nextCallId;
        markInvalid('toStream', false);
        updateWatchLink();
    });
    ['restUrl', 'sipLogin', 'sipDomain', 'callee', 'sipPort', 'rtmpUrl', 'rtmpStream', 'dtmf'].forEach(function (id) {
        ui[id].addEventListener('input', function () { markInvalid(id, false); });
    });
    ui.watchLink.addEventListener('click', function (e) {
        if (ui.watchLink.getAttribute('aria-disabled') === 'true') {
            e.preventDefault();
            markInvalid('toStream', true);
        }
    });
    ui.dtmfBtn.addEventListener('click', sendDtmf);
    ui.dtmf.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' && !ui.dtmfBtn.disabled) sendDtmf();
    });
    ui.demoBtn.addEventListener('click', function () {
        applyDemo();
        remember();
    });
    ui.startRtmp.addEventListener('click', function () {
        if (push.mode === 'idle') startPush();
        else if (push.mode === 'live') stopPush();
    });
    ui.mute.addEventListener('change', toggleMute);
})();
