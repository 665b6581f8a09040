/** Entry point: take a login link's token out of the URL first, then render. */
import { render } from 'preact';
import { takeTokenFromUrl } from './api/session.js';
import { App } from './app.js';
import './styles.css';

const link = takeTokenFromUrl();
render(<App link={link} />, document.getElementById('app')!);
