// The one place that finds sharp (libvips), an optional dependency: loaded on the first decode, so that the package
// imports, preprocesses raw pixels and reads its cache without it, and only a call that decodes fails, saying how
// to install it.
import type { default as Sharp } from 'sharp';

/** sharp's default export: the function that opens an image. */
export type SharpFunction = typeof Sharp;

let loading: Promise<SharpFunction> | undefined;

/** sharp, imported on first use; a missing or broken install throws an error naming sharp and how to install it. */
export function loadSharp(): Promise<SharpFunction> {
  loading ??= import('sharp').then(
    (module) => module.default,
    (error: unknown) => {
      loading = undefined;
      const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(
        `@depthfold/images/node: decoding images needs sharp, which could not be loaded (${why}); install it with \`pnpm add sharp\` (its libvips comes from npm as @img/sharp-<platform>, no download or compiler needed)`,
        { cause: error },
      );
    },
  );
  return loading;
}
