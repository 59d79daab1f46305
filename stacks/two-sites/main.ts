/** `cdktf synth` in this directory: the two-sites example (see two-sites-stack.ts). */
import { App } from 'cdktf';
import { TwoSitesStack } from './two-sites-stack';

const app = new App();
new TwoSitesStack(app, 'two-sites');
app.synth();
