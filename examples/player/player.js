/*
 * sipcast Player: plays a named live stream over WebRTC with the Flashphoner-compatible SDK
 * (global `Flashphoner` from /sdk/flashphoner.umd.min.js).
 *
 * Query parameters: ?streamName=NAME prefills the stream name; ?autoplay (or autoplay=true) starts at once.
 * The WebSocket URL defaults to window.SIPCAST_CONFIG.urlServer (from /sipcast-config.js),
 * else ws://<page host>:8080 (wss://<page host>:8443 on https pages).
 *
 * The only global is `window.player` = {session, stream}: the current session and stream, for tests
 * and for poking around in the console.
 */
(function () {
    'use strict';

    function byId(id) {
        return document.getElementById(id);
    }

    var ui = {
        form: byId('form'),
        url: byId('url'),
        streamName: byId('streamName'),
        volume: byId('volumeControl'),
        unmute: byId('unmuteBtn'),
        fullScreen: byId('fullScreenBtn'),
        play: byId('playBtn'),
        status: byId('status'),
        info: byId('info'),
        sessionStatus: byId('sessionStatus'),
        display: byId('remoteVideo'),
        placeholder: byId('placeholder'),
        preloader: byId('preloader')
    };

    var params = new URLSearchParams(window.location.search);

    function setStatus(status, info) {
        ui.status.textContent = status || '';
        ui.status.setAttribute('data-status', status || '');
        ui.info.textContent = info || '';
    }

    function setSessionStatus(status) {
        ui.sessionStatus.textContent = status || '';
        ui.sessionStatus.setAttribute('data-status', status || '');
    }

    var Flashphoner = window.Flashphoner;
    if (!Flashphoner) {
        setStatus('FAILED', 'SDK not loaded (/sdk/flashphoner.umd.min.js)');
        ui.play.disabled = true;
        return;
    }
    try {
        Flashphoner.init({});
    } catch (e) {
        setStatus('FAILED', e.message);
        ui.play.disabled = true;
        return;
    }

    var SESSION_STATUS = Flashphoner.constants.SESSION_STATUS;
    var STREAM_STATUS = Flashphoner.constants.STREAM_STATUS;
    var STREAM_EVENT = Flashphoner.constants.STREAM_EVENT || 'STREAM_EVENT';

    var player = { session: null, stream: null };
    window.player = player;

    // idle -> connecting -> starting -> playing -> stopping -> idle
    var mode = 'idle';

    function setMode(next) {
        mode = next;
        var busy = next !== 'idle';
        ui.url.disabled = busy;
        ui.streamName.disabled = busy;
        ui.play.textContent = busy ? 'Stop' : 'Start';
        ui.play.disabled = next === 'stopping';
        ui.volume.disabled = next !== 'playing';
        ui.fullScreen.disabled = next !== 'playing';
        ui.placeholder.hidden = busy;
        if (!busy) {
            ui.preloader.hidden = true;
            ui.unmute.hidden = true;
        }
    }

    function isFinal(status) {
        return status === STREAM_STATUS.STOPPED || status === STREAM_STATUS.FAILED ||
            status === STREAM_STATUS.UNPUBLISHED;
    }

    function defaultUrl() {
        var config = window.SIPCAST_CONFIG;
        if (config && typeof config.urlServer === 'string' && config.urlServer) {
            return config.urlServer;
        }
        var secure = window.location.protocol === 'https:';
        var host = window.location.hostname || 'localhost';
        if (host.indexOf(':') >= 0) {
            host = '[' + host + ']';
        }
        return (secure ? 'wss://' : 'ws://') + host + ':' + (secure ? 8443 : 8080);
    }

    function videoOf(stream) {
        return byId(stream.id()) || ui.display.querySelector('video');
    }

    function updateMuted(stream) {
        var video = videoOf(stream);
        ui.unmute.hidden = !(mode === 'playing' && video && video.muted);
    }

    var watched = typeof WeakSet === 'function' ? new WeakSet() : null;

    function watchVideo() {
        var video = ui.display.querySelector('video');
        if (!video || !watched || watched.has(video)) {
            return;
        }
        watched.add(video);
        video.addEventListener('playing', function () {
            ui.preloader.hidden = true;
        });
        video.addEventListener('volumechange', function () {
            if (player.stream) {
                updateMuted(player.stream);
            }
        });
    }

    function validate() {
        var ok = true;
        [ui.url, ui.streamName].forEach(function (input) {
            var empty = !input.value.trim();
            input.classList.toggle('invalid', empty);
            if (empty) {
                ok = false;
            }
        });
        return ok;
    }

    function start() {
        if (!validate()) {
            return;
        }
        var url = ui.url.value.trim();
        var name = ui.streamName.value.trim();
        setStatus('', '');
        var session = player.session;
        if (session && session.status() === SESSION_STATUS.ESTABLISHED && session.getServerUrl() === url) {
            playStream(session, name);
            return;
        }
        if (session) {
            player.session = null;
            try {
                session.disconnect();
            } catch (e) {
                // already gone
            }
        }
        connect(url, name);
    }

    function connect(url, name) {
        var session;
        setMode('connecting');
        try {
            session = Flashphoner.createSession({ urlServer: url });
        } catch (e) {
            setStatus('FAILED', e.message);
            setMode('idle');
            return;
        }
        player.session = session;
        setSessionStatus(session.status());

        function current() {
            return player.session === session;
        }

        session.on(SESSION_STATUS.CONNECTED, function () {
            if (current()) {
                setSessionStatus(SESSION_STATUS.CONNECTED);
            }
        }).on(SESSION_STATUS.ESTABLISHED, function () {
            if (!current()) {
                return;
            }
            setSessionStatus(SESSION_STATUS.ESTABLISHED);
            if (mode === 'connecting') {
                playStream(session, name);
            }
        }).on(SESSION_STATUS.DISCONNECTED, function () {
            if (current()) {
                setSessionStatus(SESSION_STATUS.DISCONNECTED);
                sessionGone(SESSION_STATUS.DISCONNECTED, url);
            }
        }).on(SESSION_STATUS.FAILED, function () {
            if (current()) {
                setSessionStatus(SESSION_STATUS.FAILED);
                sessionGone(SESSION_STATUS.FAILED, url);
            }
        });
    }

    // The SDK fails every live stream of a lost session, and the stream's FAILED handler updates the page.
    // Only when no stream was under way (e.g. the server could not be reached) is there something to say here.
    function sessionGone(status, url) {
        var stream = player.stream;
        if (mode === 'idle' || (stream && !isFinal(stream.status()))) {
            return;
        }
        if (mode === 'connecting' && status === SESSION_STATUS.FAILED) {
            setStatus('FAILED', 'Cannot connect to ' + url);
        }
        setMode('idle');
    }

    function playStream(session, name) {
        var stream;
        try {
            stream = session.createStream({ name: name, display: ui.display });
        } catch (e) {
            setStatus('FAILED', e.message);
            setMode('idle');
            return;
        }
        player.stream = stream;
        setMode('starting');
        ui.preloader.hidden = false;

        function current() {
            return player.stream === stream;
        }

        stream.on(STREAM_STATUS.PENDING, function () {
            if (!current()) {
                return;
            }
            setStatus(STREAM_STATUS.PENDING, '');
            watchVideo();
        }).on(STREAM_STATUS.PLAYING, function () {
            if (!current()) {
                return;
            }
            setStatus(STREAM_STATUS.PLAYING, '');
            watchVideo();
            if (mode === 'starting') {
                setMode('playing');
            }
            stream.setVolume(Number(ui.volume.value));
            updateMuted(stream);
        }).on(STREAM_STATUS.STOPPED, function () {
            if (current()) {
                setStatus(STREAM_STATUS.STOPPED, stream.getInfo());
                setMode('idle');
            }
        }).on(STREAM_STATUS.FAILED, function () {
            if (current()) {
                setStatus(STREAM_STATUS.FAILED, stream.getInfo());
                setMode('idle');
            }
        }).on(STREAM_EVENT, function () {
            if (current()) {
                updateMuted(stream);
            }
        });

        try {
            stream.play();
        } catch (e) {
            setStatus('FAILED', e.message);
            setMode('idle');
        }
    }

    function stop() {
        var stream = player.stream;
        if (mode === 'connecting' || !stream || isFinal(stream.status())) {
            // Nothing is playing yet: drop the half-open session.
            var session = player.session;
            player.session = null;
            setSessionStatus('');
            if (session) {
                try {
                    session.disconnect();
                } catch (e) {
                    // already gone
                }
            }
            setMode('idle');
            return;
        }
        setMode('stopping');
        stream.stop();
    }

    ui.form.addEventListener('submit', function (event) {
        event.preventDefault();
        if (mode === 'idle') {
            start();
        } else if (mode !== 'stopping') {
            stop();
        }
    });

    ui.volume.addEventListener('input', function () {
        var stream = player.stream;
        if (!stream || mode !== 'playing') {
            return;
        }
        if (stream.isRemoteAudioMuted()) {
            stream.unmuteRemoteAudio();
        }
        stream.setVolume(Number(ui.volume.value));
    });

    ui.unmute.addEventListener('click', function () {
        var stream = player.stream;
        if (!stream) {
            return;
        }
        stream.unmuteRemoteAudio();
        var video = videoOf(stream);
        if (video && video.muted) {
            video.muted = false;
        }
        stream.setVolume(Number(ui.volume.value));
        updateMuted(stream);
    });

    ui.fullScreen.addEventListener('click', function () {
        if (player.stream && mode === 'playing') {
            player.stream.fullScreen();
        }
    });

    ui.url.value = defaultUrl();
    ui.streamName.value = params.get('streamName') || '';
    setMode('idle');

    var autoplay = params.has('autoplay') && !/^(false|0|no|off)$/i.test(params.get('autoplay') || '');
    if (autoplay && ui.streamName.value.trim()) {
        start();
    }
})();
