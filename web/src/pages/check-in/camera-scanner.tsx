import { useEffect, useRef, useState } from 'react';

/** The part of the Barcode Detection API used here (not yet in TypeScript's DOM types). */
interface BarcodeDetectorLike {
  detect(source: HTMLVideoElement): Promise<Array<{ rawValue: string }>>;
}
type BarcodeDetectorConstructor = new (options: { formats: string[] }) => BarcodeDetectorLike;

const detectorClass = (): BarcodeDetectorConstructor | undefined =>
  (window as unknown as { BarcodeDetector?: BarcodeDetectorConstructor }).BarcodeDetector;

/** The same code read again within this long is the same ticket still in front of the camera. */
const REPEAT_MS = 3000;
const FRAME_MS = 250;

/**
 * Scans QR codes with the device camera where the browser has `BarcodeDetector` (Chrome on
 * Android, ChromeOS, macOS); elsewhere it says so, and the code field still works.
 */
export function CameraScanner({ onCode }: { onCode: (code: string) => void }) {
  const supported = detectorClass() !== undefined && Boolean(navigator.mediaDevices);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const video = useRef<HTMLVideoElement>(null);
  const onCodeRef = useRef(onCode);
  onCodeRef.current = onCode;

  useEffect(() => {
    const Detector = detectorClass();
    if (!running || !Detector) return;
    let stream: MediaStream | undefined;
    let timer: number | undefined;
    let stopped = false;
    let last = { code: '', at: 0 };
    void (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: 'environment' },
        });
        if (stopped || !video.current) return;
        video.current.srcObject = stream;
        await video.current.play();
        const detector = new Detector({ formats: ['qr_code'] });
        const tick = async () => {
          if (stopped || !video.current) return;
          const found = await detector.detect(video.current).catch(() => []);
          const code = found[0]?.rawValue;
          const now = Date.now();
          if (code && (code !== last.code || now - last.at > REPEAT_MS)) {
            last = { code, at: now };
            onCodeRef.current(code);
          }
          timer = window.setTimeout(() => void tick(), FRAME_MS);
        };
        void tick();
      } catch {
        setError('The camera could not be started. Allow camera access, or type the code.');
        setRunning(false);
      }
    })();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      stream?.getTracks().forEach((track) => track.stop());
    };
  }, [running]);

  if (!supported) {
    return (
      <p className="alert alert-info camera-unsupported">
        Camera scanning is not available in this browser (it has no BarcodeDetector). Type the code
        or use a USB scanner.
      </p>
    );
  }
  return (
    <div className="camera">
      {error && <p className="alert alert-error">{error}</p>}
      <button
        type="button"
        className="button button-secondary"
        onClick={() => setRunning(!running)}
      >
        {running ? 'Stop camera' : 'Scan with camera'}
      </button>
      {running && (
        <video ref={video} className="camera-view" muted playsInline aria-label="Camera view" />
      )}
    </div>
  );
}
