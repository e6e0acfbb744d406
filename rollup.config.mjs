// Build of the browser SDK (@sipcast/sdk): `npm run build:sdk`.
//
//   packages/sdk/dist/sipcast.mjs            ESM, eventemitter3 external
//   packages/sdk/dist/sipcast.cjs            CJS, named exports + default
//   packages/sdk/dist/flashphoner.umd.js     UMD, global `Flashphoner`, self-contained
//   packages/sdk/dist/flashphoner.umd.min.js the same, minified (must gzip to <= 15 kB)
//   packages/sdk/dist/sipcast.d.ts           bundled type declarations
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

const SDK = 'packages/sdk';
const DIST = `${SDK}/dist`;
const TSCONFIG = `${SDK}/tsconfig.json`;
/** Budget of the minified UMD bundle, gzipped. */
const MAX_MIN_UMD_GZIP = 15360;

const banner = '/*! @sipcast/sdk | MIT */';

function ts() {
  return typescript({
    tsconfig: TSCONFIG,
    // Paths given here resolve against the tsconfig's folder, so pass absolute ones.
    compilerOptions: { declaration: false, declarationMap: false, outDir: resolve(DIST), sourceMap: true },
    noEmitOnError: true,
  });
}

/** Prints the gzipped size of each chunk and fails the build over `limit` bytes. */
function gzipSize({ limit } = {}) {
  return {
    name: 'sipcast-gzip-size',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'chunk') continue;
        const raw = Buffer.byteLength(file.code);
        const gz = gzipSync(file.code, { level: 9 }).length;
        const over = limit !== undefined && gz > limit;
        console.log(
          `  ${file.fileName}: ${(raw / 1024).toFixed(1)} kB, ${gz} bytes gzipped` +
            (limit !== undefined ? ` (limit ${limit})` : ''),
        );
        if (over) {
          this.error(`${file.fileName} is ${gz} bytes gzipped, over the ${limit} byte budget`);
        }
      }
    },
  };
}

export default [
  {
    input: `${SDK}/src/index.ts`,
    external: ['eventemitter3'],
    plugins: [ts()],
    output: [
      { file: `${DIST}/sipcast.mjs`, format: 'es', sourcemap: true, banner },
      { file: `${DIST}/sipcast.cjs`, format: 'cjs', exports: 'named', sourcemap: true, banner },
    ],
  },
  {
    input: `${SDK}/src/umd.ts`,
    plugins: [nodeResolve({ browser: true }), commonjs(), ts()],
    output: [
      {
        file: `${DIST}/flashphoner.umd.js`,
        format: 'umd',
        name: 'Flashphoner',
        exports: 'default',
        sourcemap: true,
        banner,
        plugins: [gzipSize()],
      },
      {
        file: `${DIST}/flashphoner.umd.min.js`,
        format: 'umd',
        name: 'Flashphoner',
        exports: 'default',
        sourcemap: true,
        plugins: [terser({ format: { comments: /^!/ } }), gzipSize({ limit: MAX_MIN_UMD_GZIP })],
        banner,
      },
    ],
  },
  {
    input: `${SDK}/src/index.ts`,
    external: ['eventemitter3'],
    plugins: [dts({ tsconfig: TSCONFIG, compilerOptions: { stripInternal: true } })],
    output: { file: `${DIST}/sipcast.d.ts`, format: 'es' },
  },
];
