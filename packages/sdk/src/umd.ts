/**
 * Entry of the UMD build: its only export is the API object, so the global
 * `Flashphoner` is that object (`Flashphoner.createSession(...)`).
 *
 * @packageDocumentation
 */
import Flashphoner from './index';

export default Flashphoner;
