// A folder of images as a classification dataset, as torchvision's ImageFolder and Keras's
// image_dataset_from_directory read one:
//   DIR/<class>/**/*                     one pool, split by splitImageFolder;
//   DIR/{train,val,test}/<class>/**/*    val/ and test/ may be missing (then train/ is split for them).
// Labels are the class folders' names, sorted (JavaScript's order of UTF-16 code units, which is Python's sorted()
// for names without characters beyond U+FFFF). Files are taken by extension, case-insensitive; others, and names
// starting with "." (.DS_Store, macOS's ._x.jpg), are ignored and listed. Class folders are walked recursively,
// following symbolic links; a link that leads back to a folder above it (a loop), or to a folder already walked
// (whose images would count twice), stops the scan naming the link.
import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { ImageFolderError } from '../errors.js';

/** Extensions taken as images (compared in lower case). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff'] as const;

/** The split folders of the `DIR/{train,val,test}/<class>` layout. */
export const SPLIT_FOLDERS = ['train', 'val', 'test'] as const;

/** A split folder of {@link SPLIT_FOLDERS}. */
export type SplitFolder = (typeof SPLIT_FOLDERS)[number];

/** One image of a folder: where it is and what it was when listed. */
export interface ImageFile {
  /** Path relative to the dataset's root, with "/" separators, e.g. `train/cat/001.jpg`. */
  readonly path: string;
  /** The index of its class in the sorted class names. */
  readonly label: number;
  /** Size in bytes when listed. */
  readonly size: number;
  /** Modification time when listed, in ms since the epoch (fractional, as fs.Stats gives it). */
  readonly mtimeMs: number;
}

/** A file that was not taken, and why (`not an image extension`, `hidden`, `not in a class folder`...). */
export interface IgnoredFile {
  readonly path: string;
  readonly reason: string;
}

/** What {@link scanImageFolder} found. */
export interface ImageFolderScan {
  /** The folder, absolute. */
  readonly root: string;
  /** `classes`: DIR/<class>; `splits`: DIR/{train,val,test}/<class>. */
  readonly layout: 'classes' | 'splits';
  /** Class names, sorted; a label is an index here. */
  readonly classes: readonly string[];
  /** Images per split folder, sorted by path; the `classes` layout has them all in `train`. */
  readonly folders: {
    readonly train: readonly ImageFile[];
    readonly val?: readonly ImageFile[];
    readonly test?: readonly ImageFile[];
  };
  /** Files ignored (by extension, hidden, outside class folders, broken links), sorted by path. */
  readonly ignored: readonly IgnoredFile[];
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const isImageName = (name: string): boolean =>
  (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());

/** The folders walked so far, by device and inode: those above the current one, and all. */
interface Walk {
  readonly ancestors: Map<string, string>;
  readonly seen: Map<string, string>;
  readonly ignored: IgnoredFile[];
}

const keyOf = (s: Stats): string => `${s.dev}:${s.ino}`;

/** `stat` following links; a broken link is undefined, a link loop (ELOOP) stops the scan. */
async function statFollowing(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new ImageFolderError(path, 'symbolic link loop (ELOOP): the link resolves to itself');
    if (code === 'ENOENT') return undefined;
    throw new ImageFolderError(path, `cannot read (${code ?? String(error)})`);
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort(byName);
  } catch (error) {
    throw new ImageFolderError(
      path,
      `cannot list the folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
}

/** Enters a folder: refuses a loop or a folder reached twice, then returns the function that leaves it. */
function enter(walk: Walk, path: string, s: Stats): () => void {
  const key = keyOf(s);
  const above = walk.ancestors.get(key);
  if (above !== undefined)
    throw new ImageFolderError(path, `symbolic link loop: it leads back to ${above}, a folder above it`);
  const before = walk.seen.get(key);
  if (before !== undefined)
    throw new ImageFolderError(path, `the same folder as ${before} (a symbolic link): its images would count twice`);
  walk.ancestors.set(key, path);
  walk.seen.set(key, path);
  return () => walk.ancestors.delete(key);
}

/** Stats in flight at once: a folder of thousands of images is listed in a fraction of the time of one by one. */
const STATS = 32;

/** `statFollowing` of each name in `dir`, in order, a few at once; hidden names are not looked at. */
async function statNames(dir: string, names: readonly string[]): Promise<(Stats | undefined)[]> {
  const out = new Array<Stats | undefined>(names.length);
  let next = 0;
  const lane = async () => {
    while (next < names.length) {
      const i = next++;
      if (!names[i]!.startsWith('.')) out[i] = await statFollowing(join(dir, names[i]!));
    }
  };
  await Promise.all(Array.from({ length: Math.min(STATS, names.length) }, lane));
  return out;
}

/** The images under a class folder, recursively, in path order. */
async function imagesUnder(dir: string, rel: string, label: number, walk: Walk, out: ImageFile[]): Promise<void> {
  const names = await listDir(dir);
  const stats = await statNames(dir, names);
  for (const [i, name] of names.entries()) {
    const path = join(dir, name);
    const relPath = `${rel}/${name}`;
    if (name.startsWith('.')) {
      walk.ignored.push({ path: relPath, reason: 'hidden (its name starts with ".")' });
      continue;
    }
    const s = stats[i];
    if (!s) {
      walk.ignored.push({ path: relPath, reason: 'broken symbolic link' });
    } else if (s.isDirectory()) {
      const leave = enter(walk, path, s);
      await imagesUnder(path, relPath, label, walk, out);
      leave();
    } else if (!s.isFile()) {
      walk.ignored.push({ path: relPath, reason: 'not a regular file' });
    } else if (!isImageName(name)) {
      walk.ignored.push({ path: relPath, reason: `not an image by its extension (${IMAGE_EXTENSIONS.join(' ')})` });
    } else {
      out.push({ path: relPath, label, size: s.size, mtimeMs: s.mtimeMs });
    }
  }
}

/** The sub-folders of `dir` (links followed), sorted; files there are ignored with `reason`. */
async function subfolders(dir: string, rel: string, walk: Walk, reason: string): Promise<Map<string, Stats>> {
  const folders = new Map<string, Stats>();
  for (const name of await listDir(dir)) {
    const relPath = rel ? `${rel}/${name}` : name;
    if (name.startsWith('.')) {
      walk.ignored.push({ path: relPath, reason: 'hidden (its name starts with ".")' });
      continue;
    }
    const s = await statFollowing(join(dir, name));
    if (s?.isDirectory()) folders.set(name, s);
    else walk.ignored.push({ path: relPath, reason: s ? reason : 'broken symbolic link' });
  }
  return folders;
}

/** The images of the class folders under `dir` (a split folder, or the root), labelled by `classes`. */
async function classImages(
  dir: string,
  rel: string,
  folders: Map<string, Stats>,
  classes: readonly string[],
  walk: Walk,
): Promise<ImageFile[]> {
  const out: ImageFile[] = [];
  for (const [name, s] of folders) {
    const path = join(dir, name);
    const label = classes.indexOf(name);
    if (label < 0) throw new ImageFolderError(path, `class folder not in train/ (its classes: ${classes.join(', ')})`);
    const leave = enter(walk, path, s);
    const before = out.length;
    await imagesUnder(path, rel ? `${rel}/${name}` : name, label, walk, out);
    leave();
    if (out.length === before)
      throw new ImageFolderError(path, `empty class folder: no ${IMAGE_EXTENSIONS.join(' ')} file in it`);
  }
  return out;
}

/**
 * Lists a folder of images (this file's header gives the layouts and rules). It reads names and sizes, never pixels.
 *
 * @throws {@link ImageFolderError} naming the folder and the problem: not a folder, fewer than two classes, an
 * empty class folder, a class folder of val/ or test/ that train/ lacks, train/ beside class folders, a symbolic
 * link loop.
 */
export async function scanImageFolder(dir: string): Promise<ImageFolderScan> {
  const root = resolve(dir);
  const rootStats = await statFollowing(root);
  if (!rootStats?.isDirectory()) throw new ImageFolderError(root, rootStats ? 'not a folder' : 'no such folder');
  const walk: Walk = { ancestors: new Map(), seen: new Map(), ignored: [] };
  enter(walk, root, rootStats);
  const top = await subfolders(root, '', walk, 'not in a class folder');
  const names = [...top.keys()];
  const splitNames = names.filter((n) => (SPLIT_FOLDERS as readonly string[]).includes(n));
  const layout = splitNames.length > 0 ? 'splits' : 'classes';
  if (layout === 'splits') {
    if (!top.has('train'))
      throw new ImageFolderError(
        root,
        `has ${splitNames.join('/, ')}/ but no train/: expected DIR/{train,val,test}/<class>/*`,
      );
    const others = names.filter((n) => !splitNames.includes(n));
    if (others.length > 0)
      throw new ImageFolderError(
        root,
        `has train/ beside other folders (${others.join(', ')}): expected either DIR/<class>/* or DIR/{train,val,test}/<class>/*`,
      );
  }
  const classRoot = layout === 'splits' ? join(root, 'train') : root;
  const classFolders = layout === 'splits' ? await subfolders(classRoot, 'train', walk, 'not in a class folder') : top;
  const classes = [...classFolders.keys()];
  if (classes.length < 2)
    throw new ImageFolderError(
      classRoot,
      `${classes.length === 0 ? 'no class folders' : `one class folder (${classes[0]})`}: a classifier needs at least two, as ${layout === 'splits' ? 'DIR/train/<class>/*' : 'DIR/<class>/*'}`,
    );
  const folders: { train: ImageFile[]; val?: ImageFile[]; test?: ImageFile[] } = { train: [] };
  if (layout === 'classes') {
    folders.train = await classImages(root, '', classFolders, classes, walk);
  } else {
    for (const split of SPLIT_FOLDERS) {
      const stats = top.get(split);
      if (!stats) continue;
      const path = join(root, split);
      const leave = enter(walk, path, stats);
      const inner = split === 'train' ? classFolders : await subfolders(path, split, walk, 'not in a class folder');
      if (inner.size === 0)
        throw new ImageFolderError(path, `no class folders: expected ${split}/<class>/*, or no ${split}/`);
      folders[split] = await classImages(path, split, inner, classes, walk);
      leave();
    }
  }
  walk.ignored.sort((a, b) => byName(a.path, b.path));
  return { root, layout, classes, folders, ignored: walk.ignored };
}
