// Reading QR codes with the camera, where the browser has BarcodeDetector (Chrome on Android, for one).
// Typing a code always works; this only saves the typing.

let stream = null;
let timer = null;

/** Whether this browser can read QR codes from a camera. */
export const cameraAvailable = () =>
  "BarcodeDetector" in window && Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

/** Show the camera in `video` and call `onCode(text)` for each QR code read (the same one at most
 * every 3 seconds, so a ticket held in front of the camera is not scanned over and over). */
export async function startCamera(video, onCode) {
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  let last = "";
  let lastAt = 0;
  const look = async () => {
    if (!stream) return;
    try {
      const [found] = await detector.detect(video);
      const now = Date.now();
      if (found && found.rawValue && (found.rawValue !== last || now - lastAt > 3000)) {
        last = found.rawValue;
        lastAt = now;
        onCode(found.rawValue);
      }
    } catch {
      // A frame that cannot be read yet (the video is starting): try the next one.
    }
    timer = setTimeout(look, 200);
  };
  look();
}

/** Stop the camera. */
export function stopCamera(video) {
  clearTimeout(timer);
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  video.srcObject = null;
  video.hidden = true;
}

export const cameraOn = () => stream !== null;
