// Entry point: mounts the app on #root.
import { render } from 'preact';
import { App } from './app';
import './style.css';

const root = document.getElementById('root');
if (root) render(<App />, root);
