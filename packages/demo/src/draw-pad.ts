// The drawing area: pointer strokes, pictures opened or dropped, pixels painted by a script; and its picture
// downsampled to the model's input size.

/** Brush width in canvas pixels: about 2.4 input pixels at 28x28, close to the strokes of Fashion-MNIST's edges. */
const BRUSH = 24;

/** A canvas to draw on, light on black as in Fashion-MNIST. */
export class DrawPad {
  readonly #canvas: HTMLCanvasElement;
  readonly #ctx: CanvasRenderingContext2D;
  #last: { x: number; y: number } | undefined;

  /** @param onDraw - Called while a stroke is drawn (`done` false) and when it ends (`done` true). */
  constructor(canvas: HTMLCanvasElement, onDraw: (done: boolean) => void) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('this browser has no 2D canvas');
    this.#canvas = canvas;
    this.#ctx = ctx;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.#last = this.#point(e);
      this.#stroke(this.#last);
      onDraw(false);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.#last) return;
      this.#stroke(this.#point(e));
      onDraw(false);
    });
    const end = (): void => {
      if (!this.#last) return;
      this.#last = undefined;
      onDraw(true);
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  /** Paints the canvas black. */
  clear(): void {
    this.#ctx.fillStyle = '#000';
    this.#ctx.fillRect(0, 0, this.#canvas.width, this.#canvas.height);
  }

  /** Shows an image scaled up without smoothing, so each input pixel is a square. */
  paintPixels(image: ImageData): void {
    const small = document.createElement('canvas');
    small.width = image.width;
    small.height = image.height;
    small.getContext('2d')?.putImageData(image, 0, 0);
    this.#ctx.imageSmoothingEnabled = false;
    this.#ctx.drawImage(small, 0, 0, this.#canvas.width, this.#canvas.height);
    this.#ctx.imageSmoothingEnabled = true;
  }

  /**
   * Shows a picture fitted into the canvas on black. Where `invertLight` is set, a picture on a light background is
   * inverted inside its frame, since Fashion-MNIST's product photos were inverted to light garments on black.
   * @param grey - Draw in greys, as a grey model sees it.
   * @param invertLight - Invert a picture on a light background (for models of the built-in datasets).
   */
  paintImage(
    picture: CanvasImageSource & { width: number; height: number },
    grey: boolean,
    invertLight: boolean,
  ): void {
    const { width, height } = this.#canvas;
    const scale = Math.min(width / picture.width, height / picture.height);
    const w = Math.round(picture.width * scale);
    const h = Math.round(picture.height * scale);
    const x = Math.round((width - w) / 2);
    const y = Math.round((height - h) / 2);
    this.clear();
    this.#ctx.filter = grey ? 'grayscale(1)' : 'none';
    this.#ctx.drawImage(picture, x, y, w, h);
    this.#ctx.filter = 'none';
    if (invertLight && borderLuminance(this.#ctx.getImageData(x, y, w, h)) > 127) {
      this.#ctx.globalCompositeOperation = 'difference';
      this.#ctx.fillStyle = '#fff';
      this.#ctx.fillRect(x, y, w, h);
      this.#ctx.globalCompositeOperation = 'source-over';
    }
  }

  /** The picture averaged down to `width` x `height`. */
  sample(width: number, height: number): ImageData {
    const small = document.createElement('canvas');
    small.width = width;
    small.height = height;
    const ctx = small.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('this browser has no 2D canvas');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(this.#canvas, 0, 0, width, height);
    return ctx.getImageData(0, 0, width, height);
  }

  #point(e: PointerEvent): { x: number; y: number } {
    const box = this.#canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - box.left) * this.#canvas.width) / box.width,
      y: ((e.clientY - box.top) * this.#canvas.height) / box.height,
    };
  }

  #stroke(to: { x: number; y: number }): void {
    const from = this.#last ?? to;
    const ctx = this.#ctx;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = BRUSH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x + 0.01, to.y);
    ctx.stroke();
    this.#last = to;
  }
}

// Mean luminance of the outermost pixels: the background of a product photo.
function borderLuminance(image: ImageData): number {
  const { width, height, data } = image;
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y !== 0 && y !== height - 1 && x !== 0 && x !== width - 1) continue;
      const i = 4 * (y * width + x);
      sum += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      count++;
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** Raw pixels (HWC, 0..255, 1 or 3 channels) as an opaque ImageData, for display. */
export function pixelsToImageData(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
): ImageData {
  const image = new ImageData(width, height);
  for (let k = 0; k < width * height; k++) {
    for (let c = 0; c < 3; c++) image.data[4 * k + c] = pixels[k * channels + (channels === 1 ? 0 : c)]!;
    image.data[4 * k + 3] = 255;
  }
  return image;
}
